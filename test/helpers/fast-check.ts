/**
 * For the unit tests of the hand-written checks that stand in front of the zod schemas
 * (control-request.ts, discovery-answers.ts, relay-server-frame.ts, peer-frame-codec.ts): a check
 * may leave any input to the schema, but what it accepts the schema must accept, with the same
 * data, keys in the same order.
 */
import { expect } from 'vitest'
import type { z } from 'zod'

/** Feeds `fast` and `schema` every input; returns how many `fast` took. */
export function expectAgreement(fast: (raw: unknown) => unknown, schema: z.ZodType, inputs: unknown[]): number {
  let taken = 0
  for (const raw of inputs) {
    const label = JSON.stringify(raw)?.slice(0, 100)
    const quick = fast(raw)
    const parsed = schema.safeParse(raw)
    if (!parsed.success) expect(quick, label).toBeUndefined()
    if (quick === undefined) continue
    taken++
    expect(parsed.success, label).toBe(true)
    expect(quick, label).toEqual(parsed.data)
    expect(Object.keys(quick as object), label).toEqual(Object.keys(parsed.data as object))
  }
  return taken
}
