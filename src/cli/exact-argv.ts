/**
 * The argv parser of the paths that run a command without loading oclif (fast-path.ts,
 * daemon-run-path.ts). It accepts only a command line oclif would parse to the same values, and
 * answers undefined for anything else (help, an unknown or repeated flag, a short flag, `--flag=`
 * on a boolean, `--`, a value oclif would refuse), so that oclif takes it and words the error.
 */
import { parseDurationSeconds } from '../protocol/duration.js'

export type FlagKind =
  | { kind: 'boolean' }
  | { kind: 'string' }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'duration' }
  /** A string that the oclif flag's own parser checks: `check` returns its value, or undefined where that parser throws. */
  | { kind: 'checked'; check: (raw: string) => string | undefined }

export interface ExactSpec {
  /** Positional arguments: at least, at most. */
  args: [number, number]
  /** The command's own flags, as oclif declares them (--json and --home are everyone's). */
  flags: Record<string, FlagKind>
  /** Flags whose empty value (`--flag ''`) oclif takes as given; elsewhere an empty value goes to oclif. */
  emptyAllowed?: readonly string[]
}

export interface ExactArgv {
  args: string[]
  /** The command's own flags that were given, parsed (integers and durations as numbers). */
  flags: Record<string, string | number | boolean>
  json: boolean
  home?: string
}

export const BOOLEAN: FlagKind = { kind: 'boolean' }
const HOME: FlagKind = { kind: 'string' }

/** Pure: `rest` (the argv after the command's words) parsed by `spec`, or undefined when oclif should take it. */
export function parseExactArgv(rest: readonly string[], spec: ExactSpec): ExactArgv | undefined {
  const parsed: ExactArgv = { args: [], flags: {}, json: false }
  const seen = new Set<string>()
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as string
    if (!token.startsWith('-')) {
      parsed.args.push(token)
      continue
    }
    const equals = token.indexOf('=')
    const name = (equals < 0 ? token : token.slice(0, equals)).replace(/^--/, '')
    // Short flags (-v, -q, -h), `--`, repeated flags: oclif's to judge.
    if (!token.startsWith('--') || name === '' || seen.has(name)) return undefined
    seen.add(name)
    const kind = name === 'json' ? BOOLEAN : name === 'home' ? HOME : spec.flags[name]
    if (!kind) return undefined
    if (kind.kind === 'boolean') {
      if (equals >= 0) return undefined
      if (name === 'json') parsed.json = true
      else parsed.flags[name] = true
      continue
    }
    const raw = equals < 0 ? rest[++i] : token.slice(equals + 1)
    // A missing value, or one that looks like a flag: oclif says what is wrong.
    if (raw === undefined || raw.startsWith('-')) return undefined
    if (raw === '' && !spec.emptyAllowed?.includes(name)) return undefined
    const value = flagValue(kind, raw)
    if (value === undefined) return undefined
    if (name === 'home') parsed.home = raw
    else parsed.flags[name] = value
  }
  const [min, max] = spec.args
  if (parsed.args.length < min || parsed.args.length > max) return undefined
  // A peer argument oclif would read as missing.
  if (parsed.args[0] === '') return undefined
  return parsed
}

/** Pure: a flag's value as oclif parses it, or undefined when oclif would refuse it (it then reports why). */
function flagValue(kind: FlagKind, raw: string): string | number | undefined {
  switch (kind.kind) {
    case 'integer': {
      if (!/^\d+$/.test(raw)) return undefined
      const n = Number(raw)
      return n >= kind.min && n <= kind.max ? n : undefined
    }
    case 'duration':
      return parseDurationSeconds(raw)
    case 'checked':
      return kind.check(raw)
    default:
      return raw
  }
}
