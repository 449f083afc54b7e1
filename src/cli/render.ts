/**
 * The human form of each daemon result. Commands and `chat` print the same things the same way.
 * Everything that came from elsewhere (peer ids, addresses, message text) goes through sanitize.
 */
import type { HistoryEntry, PeerInfo, PolicyResult, StatusResult, TrustResult } from '../protocol/rpc.js'
import { ago, dateTime, duration, type Palette, sanitize, table } from './format.js'

export function peersTable(peers: PeerInfo[], c: Palette, empty: string): string {
  if (peers.length === 0) return empty
  const rows = peers.map((p) => {
    const flags = [
      p.keyChanged ? c.red(`KEY CHANGED (now ${sanitize(p.presentedFingerprint ?? '?')})`) : '',
      p.connected ? (p.link === 'relayed' ? 'connected (relayed)' : 'connected') : '',
      p.blocked ? 'blocked' : '',
      p.muted ? (p.mutedUntil ? `muted until ${dateTime(p.mutedUntil)}` : 'muted') : '',
    ].filter(Boolean)
    return [
      sanitize(p.userId),
      p.online ? 'yes' : 'no',
      p.host !== undefined && p.port !== undefined ? (p.port === 0 ? 'relay only' : sanitize(`${p.host}:${p.port}`)) : '-',
      p.fingerprint ? sanitize(p.fingerprint) : '-',
      p.lastSeen ? ago(p.lastSeen) : '-',
      flags.join(', '),
    ]
  })
  return table(['USER', 'ONLINE', 'ADDRESS', 'FINGERPRINT', 'LAST SEEN', 'FLAGS'], rows, c)
}

export type PolicyMethod = 'block' | 'unblock' | 'mute' | 'unmute'

/** Says what happened, and whether anything changed. */
export function policyLine(method: PolicyMethod, r: PolicyResult): string {
  const peer = sanitize(r.peer)
  switch (method) {
    case 'block':
      return r.changed ? `blocked ${peer}` : `${peer} was already blocked (nothing changed)`
    case 'unblock':
      return r.changed ? `unblocked ${peer}` : `${peer} was not blocked (nothing changed)`
    case 'mute': {
      const until = r.mutedUntil ? ` until ${dateTime(r.mutedUntil)}` : ''
      return r.changed ? `muted ${peer}${until}` : `${peer} was already muted${until} (nothing changed)`
    }
    case 'unmute':
      return r.changed ? `unmuted ${peer}` : `${peer} was not muted (nothing changed)`
  }
}

/** `[2024-05-01 12:03] alice -> bob: text  (queued)`; continuation lines indented under the text. */
export function historyLine(e: HistoryEntry, c: Palette): string {
  const stamp = `[${dateTime(e.at)}]`
  const head = `${sanitize(e.from)} -> ${sanitize(e.to)}`
  const indent = ' '.repeat(stamp.length + 1 + head.length + 2)
  const notes = [e.status && e.status !== 'delivered' ? e.status : '', e.muted ? 'muted' : ''].filter(Boolean)
  const suffix = notes.length ? `  ${c.dim(`(${notes.join(', ')})`)}` : ''
  return `${c.dim(stamp)} ${c.cyan(head)}: ${sanitize(e.text, indent)}${suffix}`
}

export function statusLines(s: StatusResult, c: Palette): string {
  const server = s.server.registered
    ? `${sanitize(s.server.url)} ${c.green('registered')}`
    : `${sanitize(s.server.url)} ${c.yellow('not registered')}${s.server.error ? ` (${sanitize(s.server.error)})` : ''}`
  const rows: Array<[string, string]> = [
    ['running', `${c.green('yes')} (pid ${s.pid}, up ${duration(s.uptimeS)})`],
    ['user', s.userId],
    ['fingerprint', s.fingerprint],
    ['listening', s.listen.port === 0 ? 'off (reachable through the relay only)' : `${s.listen.host}:${s.listen.port}`],
    ['server', server],
    ...(s.relay ? ([['relay', s.relay.connected ? c.green('connected') : c.yellow('not connected')]] as Array<[string, string]>) : []),
    [
      'peers',
      `${s.peers.online} online, ${s.peers.connected} connected${s.peers.keyChanged ? c.red(`, ${s.peers.keyChanged} with a changed key (see p2p peers)`) : ''}`,
    ],
    ['outbox', `${s.outbox.queued} queued${s.outbox.failed ? `, ${s.outbox.failed} failed` : ''}`],
    ...(s.mailbox ? [['mailbox', mailboxLine(s.mailbox)] as [string, string]] : []),
    ['version', s.version],
    ['home', s.home],
  ]
  return rows.map(([k, v]) => `${c.dim(k.padEnd(13))}${v}`).join('\n')
}

/** `3 left in peers' mailboxes, 5 received`, and the last refusal when there is one. */
function mailboxLine(m: NonNullable<StatusResult['mailbox']>): string {
  return `${m.deposited} left in peers' mailboxes, ${m.received} received${m.error ? ` (${sanitize(m.error)})` : ''}`
}

/** `status --verbose`: the actor tree, indented by depth, then each peer link's actor. */
export function actorLines(s: StatusResult, c: Palette): string {
  const actors = (s.actors ?? []).map((a) => `${'  '.repeat(a.depth)}${a.id.padEnd(Math.max(1, 16 - 2 * a.depth))} ${a.state}`)
  const links = (s.links ?? []).map((l) => `  ${sanitize(l.peer).padEnd(14)} ${l.state}`)
  return [c.dim('actors'), ...actors, c.dim(`peer links (${links.length})`), ...links].join('\n')
}

export function trustLine(result: TrustResult): string {
  const who = sanitize(result.peer)
  return result.changed
    ? `now trusting ${who}'s key ${result.fingerprint}${result.previousFingerprint ? ` (was ${result.previousFingerprint})` : ''}`
    : `${who}'s key ${result.fingerprint} is already the one pinned (nothing changed)`
}

/** What `msg --quiet` counts: each answered send by its status. */
export interface SendTally {
  sent: number
  delivered: number
  /** Left in the peer's mailbox (present once one was). */
  mailbox?: number
  queued: number
  failed: number
}

export function emptyTally(): SendTally {
  return { sent: 0, delivered: 0, queued: 0, failed: 0 }
}

/** Counts one answered send (an unknown status, from a newer daemon, counts as sent only). */
export function countSend(tally: SendTally, status: string): void {
  tally.sent++
  if (status === 'delivered' || status === 'queued' || status === 'failed') tally[status]++
  if (status === 'mailbox') tally.mailbox = (tally.mailbox ?? 0) + 1
}

/** The last line of `msg --quiet`: "sent N: D delivered, Q queued, F failed" (", M in mailboxes" after delivered, when any). */
export function sendSummary(t: SendTally): string {
  const mailbox = t.mailbox ? `, ${t.mailbox} in mailboxes` : ''
  return `sent ${t.sent}: ${t.delivered} delivered${mailbox}, ${t.queued} queued, ${t.failed} failed`
}
