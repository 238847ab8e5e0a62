/**
 * stderr as a person at a terminal sees it: log lines scrolling by and,
 * while a run trains, a progress bar redrawn in place below them. A line
 * written straight to stderr while the bar is shown lands on the bar's own
 * line and is wiped at its next redraw (a worker dropped mid-epoch went
 * unseen), so every line of this process goes through here, and above the
 * bar while there is one.
 */
type LineSink = (text: string) => void;

let aboveTheBar: LineSink | undefined;

/** Writes whole lines (ending with a newline) to stderr, above a progress bar if one is shown. */
export function writeLines(text: string): void {
  if (aboveTheBar !== undefined) aboveTheBar(text);
  else process.stderr.write(text);
}

/** While a bar is shown, lines go to `sink`; returns the end of that. */
export function sendLinesAboveBar(sink: LineSink): () => void {
  aboveTheBar = sink;
  return () => {
    if (aboveTheBar === sink) aboveTheBar = undefined;
  };
}
