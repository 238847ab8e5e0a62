/** gradfleet's own version, as its package.json says (this file runs from dist/shared/). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const GRADFLEET_VERSION: string = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
