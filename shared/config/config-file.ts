/** Reads a YAML or JSON config file into option keys. */
import YAML from 'yaml';
import { ConfigError } from '../errors';
import { readNamedFile } from '../io/named-file';

export function readConfigFile(file: string): Record<string, unknown> {
  const text = readNamedFile('config file', file).toString('utf8');
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    doc = YAML.parse(text, { logLevel: 'error' });
  } catch (err) {
    // The message's first line names the place and ends with a colon before its excerpt of the file.
    throw new ConfigError(`config file ${file}: ${(err as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${file}: expected a mapping of option names to values`);
  return doc as Record<string, unknown>;
}
