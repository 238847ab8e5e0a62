/**
 * Merges the sources of options, lowest precedence first: table defaults,
 * the config file, GRADFLEET_* environment variables, command-line flags.
 * Every value is coerced and checked here, once, with an error that names
 * the option and where the bad value came from.
 */
import { ConfigError } from '../errors';
import { readConfigFile } from './config-file';
import { envNameFor } from './env';
import { flagName, OptionSpec } from './option-table';

export type OptionValue = string | number | boolean;
export type OptionValues = Record<string, OptionValue | undefined>;

export interface OptionSources {
  /** Flags the user gave, keyed by camelCase key (values as commander parsed them). */
  flags: Record<string, unknown>;
  /** GRADFLEET_* variables. */
  env: Record<string, string>;
}

function coerce(spec: OptionSpec, raw: unknown, origin: string): OptionValue {
  const where = `--${flagName(spec.key)} (${origin})`;
  // A config file can hold lists and mappings, which String() would flatten into something that looks like a value ('1,2').
  if (raw !== null && typeof raw === 'object') throw new ConfigError(`${where}: expected one value, got ${Array.isArray(raw) ? 'a list' : 'a mapping'}`);
  let value: OptionValue;
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') value = raw;
      else if (/^(true|1|yes)$/i.test(String(raw))) value = true;
      else if (/^(false|0|no)$/i.test(String(raw))) value = false;
      else throw new ConfigError(`${where}: '${String(raw)}' is not true or false`);
      break;
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw new ConfigError(`${where}: '${String(raw)}' is not a number`);
      if (spec.type === 'int' && !Number.isInteger(n)) throw new ConfigError(`${where}: '${String(raw)}' is not an integer`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${where}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${where}: ${n} is above the maximum ${spec.max}`);
      if (spec.above !== undefined && !(n > spec.above)) throw new ConfigError(`${where}: ${n} must be greater than ${spec.above}`);
      value = n;
      break;
    }
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(`${where}: expected a string`);
      value = String(raw);
      if (value === '') throw new ConfigError(`${where}: must not be empty`);
      break;
  }
  if (spec.choices !== undefined && !spec.choices.includes(String(value))) {
    throw new ConfigError(`${where}: '${String(value)}' is not one of ${spec.choices.join(', ')}`);
  }
  return value;
}

function configKeyToSpec(specs: readonly OptionSpec[], key: string): OptionSpec | undefined {
  return specs.find((s) => s.key === key || flagName(s.key) === key);
}

export function resolveOptions(specs: readonly OptionSpec[], sources: OptionSources): OptionValues {
  const out: OptionValues = {};
  for (const spec of specs) if (spec.default !== undefined) out[spec.key] = spec.default;

  const configPath = sources.flags.config ?? sources.env[envNameFor('config')];
  if (configPath !== undefined) {
    const file = String(configPath);
    for (const [key, raw] of Object.entries(readConfigFile(file))) {
      const spec = configKeyToSpec(specs, key);
      if (spec === undefined || spec.key === 'config') throw new ConfigError(`config file ${file}: unknown option '${key}'`);
      out[spec.key] = coerce(spec, raw, `config file ${file}`);
    }
    out.config = file;
  }
  for (const spec of specs) {
    const name = envNameFor(flagName(spec.key));
    if (sources.env[name] !== undefined) out[spec.key] = coerce(spec, sources.env[name], `environment ${name}`);
  }
  for (const spec of specs) {
    const raw = sources.flags[spec.key];
    if (raw !== undefined) out[spec.key] = coerce(spec, raw, 'command line');
  }
  return out;
}
