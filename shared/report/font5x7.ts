/**
 * A 5x7 pixel font for the report images: digits, capitals and a little
 * punctuation, drawn here so reports need no font files or native canvas.
 * Each glyph is seven rows of five columns; '#' is ink.
 */
const GLYPHS: Record<string, string> = {
  '0': ' ### #   ##  ### # ###  ##   # ### ',
  '1': '  #   ##    #    #    #    #   ### ',
  '2': ' ### #   #    #   #   #   #   #####',
  '3': '#####   #   #     #     ##   # ### ',
  '4': '   #   ##  # # #  # #####   #    # ',
  '5': '######    ####     #    ##   # ### ',
  '6': '  ##  #   #    #### #   ##   # ### ',
  '7': '#####    #   #   #   #    #    #   ',
  '8': ' ### #   ##   # ### #   ##   # ### ',
  '9': ' ### #   ##   # ####    #   #  ##  ',
  A: ' ### #   ##   #######   ##   ##   #',
  B: '#### #   ##   ##### #   ##   ##### ',
  C: ' ### #   ##    #    #    #   # ### ',
  D: '###  #  # #   ##   ##   ##  # ###  ',
  E: '######    #    #### #    #    #####',
  F: '######    #    #### #    #    #    ',
  G: ' ### #   ##    # ####   ##   # ####',
  H: '#   ##   ##   #######   ##   ##   #',
  I: ' ###   #    #    #    #    #   ### ',
  K: '#   ##  # # #  ##   # #  #  # #   #',
  L: '#    #    #    #    #    #    #####',
  M: '#   ### ### # ## # ##   ##   ##   #',
  N: '#   ##   ###  ## # ##  ###   ##   #',
  O: ' ### #   ##   ##   ##   ##   # ### ',
  P: '#### #   ##   ##### #    #    #    ',
  R: '#### #   ##   ##### # #  #  # #   #',
  S: ' #####    #     ###     #    ##### ',
  T: '#####  #    #    #    #    #    #  ',
  U: '#   ##   ##   ##   ##   ##   # ### ',
  V: '#   ##   ##   ##   ##   # # #   #  ',
  W: '#   ##   ##   ## # ## # ## # # # # ',
  Y: '#   ##   # # #   #    #    #    #  ',
  ':': '      ##   ##        ##   ##       ',
  '.': '                          ##   ##  ',
  ',': '                     ##   ##  #    ',
  '%': '##   ##  #   #   #   #   #  ##   ##',
  '-': '               #####               ',
  '/': '    #    #   #   #   #   #    #    ',
  '(': '   #   #   #    #    #     #     # ',
  ')': ' #     #     #    #    #   #   #   ',
  ' ': '                                   ',
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** Whether pixel (x, y) of character `c` is ink; unknown characters draw as blanks. */
export function glyphPixel(c: string, x: number, y: number): boolean {
  const g = GLYPHS[c.toUpperCase()];
  return g !== undefined && g[y * GLYPH_WIDTH + x] === '#';
}
