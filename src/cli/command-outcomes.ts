/**
 * What each one-shot command asks the daemon and what it prints, once for both ways in: the oclif
 * commands (src/commands) and the fast path (fast-path.ts), which skips oclif. Each returns the
 * result (the command's `--json` document) and the human text, so the two can never drift apart.
 * No oclif and no zod here: the fast path is bundled from this.
 */
import type { HistoryEntry, PeerInfo, PolicyResult, SendResult, StatusResult, TrustResult } from '../protocol/rpc.js'
import type { DaemonClient } from './control-client.js'
import type { Palette } from './format.js'
import { actorLines, historyLine, type PolicyMethod, peersTable, policyLine, statusLines, trustLine } from './render.js'

export interface Outcome<T> {
  /** The command's JSON document. */
  result: T
  /** What it prints for a person (one or more lines, no final newline). */
  text: string
}

export async function sendOutcome(client: DaemonClient, to: string, text: string, timeout: number): Promise<Outcome<SendResult>> {
  const result = await client.call('send', { to, text, timeout })
  return { result, text: result.status }
}

export async function statusOutcome(client: DaemonClient, verbose: boolean, c: Palette): Promise<Outcome<StatusResult>> {
  const status = await client.call('status', verbose ? { verbose: true } : {})
  return { result: status, text: verbose ? `${statusLines(status, c)}\n${actorLines(status, c)}` : statusLines(status, c) }
}

export async function peersOutcome(client: DaemonClient, c: Palette): Promise<Outcome<PeerInfo[]>> {
  const peers = await client.call('peers')
  return { result: peers, text: peersTable(peers, c, 'no known peers yet (try p2p discover)') }
}

export async function discoverOutcome(client: DaemonClient, c: Palette): Promise<Outcome<PeerInfo[]>> {
  const peers = await client.call('discover')
  return { result: peers, text: peersTable(peers, c, 'nobody else is online') }
}

export interface HistoryQuery {
  peer?: string
  limit: number
  includeMuted: boolean
}

export async function historyOutcome(client: DaemonClient, query: HistoryQuery, c: Palette): Promise<Outcome<HistoryEntry[]>> {
  const entries = await client.call('history', {
    ...(query.peer !== undefined ? { peer: query.peer } : {}),
    limit: query.limit,
    includeMuted: query.includeMuted,
  })
  const text =
    entries.length === 0
      ? query.peer
        ? `no messages with ${query.peer} yet`
        : 'no messages yet'
      : entries.map((e) => historyLine(e, c)).join('\n')
  return { result: entries, text }
}

export async function policyOutcome(
  client: DaemonClient,
  method: PolicyMethod,
  peer: string,
  extra: { for?: number } = {},
): Promise<Outcome<PolicyResult>> {
  const result = await client.call(method, { peer, ...extra })
  return { result, text: policyLine(method, result) }
}

export async function trustOutcome(client: DaemonClient, peer: string, fingerprint: string | undefined): Promise<Outcome<TrustResult>> {
  const result = await client.call('trust', { peer, ...(fingerprint ? { fingerprint } : {}) })
  return { result, text: trustLine(result) }
}
