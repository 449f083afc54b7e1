/** Durations as people type them: "90" (seconds), "45s", "30m", "2h", "7d", or combined "1h30m". */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/** Seconds in `text`, or undefined when it is not a duration. */
export function parseDurationSeconds(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : undefined
  const trimmed = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed)
    return n > 0 ? n : undefined
  }
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(trimmed)) return undefined
  let total = 0
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) {
    total += Number(amount) * (UNIT_SECONDS[unit as string] ?? 0)
  }
  return total > 0 ? total : undefined
}
