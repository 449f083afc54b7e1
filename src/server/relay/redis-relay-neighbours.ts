/**
 * Relay circuits across the instances of one Redis namespace (`--redis` with `--relay-url`).
 *
 * Homes: when a control session authenticates here, `p2p:rh:{USER}` (the user's slot) records
 * this instance, its relay URL and the session, with a TTL this instance refreshes while the
 * session lives. A closing session deletes the record only if it is still its own, so a newer
 * session elsewhere is never erased. An instance that dies leaves records that lapse by their TTL;
 * until then a dial finds nobody subscribed to that instance's channel and fails at once.
 *
 * Pairing: each instance subscribes to its own channel. A dial for a user homed elsewhere is
 * published there; the home checks its limits, sends `incoming` to its daemon and answers on the
 * asker's channel with the dialer's token; the asker answers its daemon `dial_ok` with the home's
 * URL. Nothing here depends on keyspace notifications.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { ErrorCode } from '../../protocol/errors.js'
import { decodeBusMessage, decodeHome, encodeBusMessage, encodeHome, homeKey, instanceChannel, type RelayBusMessage } from './relay-home.js'
import type { CircuitParty, HostCircuit, PairAnswer, RelayNeighbours } from './relay-neighbours.js'

export interface RedisNeighbourTiming {
  /** A home record lives this long without a refresh (an instance that died leaves it this long). */
  homeTtlMs: number
  /** How long a forwarded pairing waits for the home's answer. */
  pairTimeoutMs: number
}

export const DEFAULT_NEIGHBOUR_TIMING: RedisNeighbourTiming = { homeTtlMs: 45_000, pairTimeoutMs: 5_000 }

/** Deletes KEYS[1] only while it still holds ARGV[1] (this session's own record). */
const FORGET_HOME = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/**
 * Keeps KEYS[1] = ARGV[1] for ARGV[2] ms more, unless another session's record replaced it (0).
 * A missing record is written again: Redis restarted, or it lapsed while this instance stalled.
 */
const REFRESH_HOME = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

interface Scripts {
  p2pForgetHome(key: string, value: string): Promise<number>
  p2pRefreshHome(key: string, value: string, ttlMs: number): Promise<number>
}

const unreachable = (message: string): PairAnswer => ({ ok: false, code: ErrorCode.PeerUnreachable, message })

export class RedisRelayNeighbours implements RelayNeighbours {
  /** Fresh per process: a restarted instance is a new one, and records of the old one lead nowhere. */
  readonly instance = randomBytes(12).toString('base64url')
  readonly #redis: Redis
  readonly #scripts: Scripts
  readonly #log: Logger
  readonly #timing: RedisNeighbourTiming
  /** The records this instance wrote and keeps fresh: user id -> stored value. */
  readonly #homes = new Map<string, string>()
  readonly #pending = new Map<string, (answer: PairAnswer) => void>()
  #url: string | undefined
  #host: HostCircuit | undefined
  #subscriber: Redis | undefined
  #refresh: NodeJS.Timeout | undefined
  #nextRequest = 0
  #closed = false

  /** Shares `redis` (owned by the registry, closed after this). */
  constructor(redis: Redis, log: Logger, timing: Partial<RedisNeighbourTiming> = {}) {
    this.#redis = redis
    this.#log = log
    this.#timing = { ...DEFAULT_NEIGHBOUR_TIMING, ...timing }
    redis.defineCommand('p2pForgetHome', { numberOfKeys: 1, lua: FORGET_HOME })
    redis.defineCommand('p2pRefreshHome', { numberOfKeys: 1, lua: REFRESH_HOME })
    this.#scripts = redis as unknown as Scripts
  }

  async start(url: string | undefined, host: HostCircuit): Promise<void> {
    this.#url = url
    this.#host = host
    // A connection in subscriber mode takes no other commands: it needs its own.
    const subscriber = this.#redis.duplicate()
    subscriber.on('error', () => {})
    subscriber.on('message', (_channel: string, text: string) => this.#onMessage(text))
    await subscriber.connect()
    await subscriber.subscribe(instanceChannel(this.instance))
    this.#subscriber = subscriber
    this.#refresh = setInterval(() => this.#refreshHomes(), this.#timing.homeTtlMs / 3)
    this.#refresh.unref()
  }

  homed(userId: string, session: string): void {
    if (this.#closed || !this.#url) return
    const value = encodeHome({ instance: this.instance, url: this.#url, session })
    this.#homes.set(userId, value)
    // The newest session wins: it overwrites whatever an older one (anywhere) left.
    this.#redis
      .set(homeKey(userId), value, 'PX', this.#timing.homeTtlMs)
      .catch((err: unknown) => this.#log.warn({ err, userId }, 'relay: could not record a relay home'))
  }

  left(userId: string, session: string): void {
    if (this.#closed || !this.#url) return
    const value = encodeHome({ instance: this.instance, url: this.#url, session })
    if (this.#homes.get(userId) !== value) return
    this.#homes.delete(userId)
    this.#scripts
      .p2pForgetHome(homeKey(userId), value)
      .catch((err: unknown) => this.#log.warn({ err, userId }, 'relay: could not remove a relay home'))
  }

  async pair(to: string, from: CircuitParty): Promise<PairAnswer> {
    if (this.#closed) return unreachable(`${to} has no relay connection here; this instance is stopping`)
    let raw: string | null
    try {
      raw = await this.#redis.get(homeKey(to))
    } catch (err) {
      return { ok: false, code: ErrorCode.Unavailable, message: `cannot look up ${to}'s relay instance: ${(err as Error).message}` }
    }
    const home = decodeHome(raw)
    if (!home || home.instance === this.instance) return unreachable(`${to} has no relay connection on any instance`)
    const rid = String(++this.#nextRequest)
    const answer = new Promise<PairAnswer>((resolve) => {
      const timer = setTimeout(
        () => this.#settle(rid, unreachable(`${to}'s relay instance (${home.url}) did not answer in time`)),
        this.#timing.pairTimeoutMs,
      )
      timer.unref()
      this.#pending.set(rid, (a) => {
        clearTimeout(timer)
        resolve(a)
      })
    })
    const request: RelayBusMessage = { t: 'pair', rid, reply: this.instance, to, from: from.userId, fromKey: from.key }
    try {
      // Nobody subscribed: that instance is gone (its record lapses by itself); no need to wait.
      const receivers = await this.#redis.publish(instanceChannel(home.instance), encodeBusMessage(request))
      if (receivers === 0)
        this.#settle(rid, unreachable(`${to}'s relay instance (${home.url}) is gone; ${to} reconnects elsewhere by itself`))
      else this.#log.debug({ from: from.userId, to, home: home.url }, 'relay: pairing forwarded')
    } catch (err) {
      this.#settle(rid, {
        ok: false,
        code: ErrorCode.Unavailable,
        message: `cannot reach ${to}'s relay instance: ${(err as Error).message}`,
      })
    }
    return answer
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#refresh)
    for (const rid of [...this.#pending.keys()]) this.#settle(rid, unreachable('this relay instance is stopping'))
    const pipe = this.#redis.pipeline()
    for (const [userId, value] of this.#homes) (pipe as unknown as Scripts).p2pForgetHome(homeKey(userId), value)
    this.#homes.clear()
    await pipe.exec().catch(() => undefined)
    await this.#subscriber?.quit().catch(() => this.#subscriber?.disconnect())
  }

  #settle(rid: string, answer: PairAnswer): void {
    const waiter = this.#pending.get(rid)
    this.#pending.delete(rid)
    waiter?.(answer)
  }

  #onMessage(text: string): void {
    const message = decodeBusMessage(text)
    if (!message) {
      this.#log.warn('relay: ignored a malformed message from another instance')
      return
    }
    if (message.t === 'paired') this.#settle(message.rid, { ok: true, token: message.token, url: message.url })
    else if (message.t === 'refused') this.#settle(message.rid, { ok: false, code: message.code, message: message.message })
    else this.#hostForwarded(message)
  }

  /** Another instance's daemon dials one of ours: host the circuit here and answer with the dialer's token. */
  #hostForwarded(request: Extract<RelayBusMessage, { t: 'pair' }>): void {
    if (!this.#host || !this.#url || this.#closed) return
    const hosted = this.#host(request.to, { userId: request.from, key: request.fromKey })
    const reply: RelayBusMessage = hosted.ok
      ? { t: 'paired', rid: request.rid, token: hosted.token, url: this.#url }
      : { t: 'refused', rid: request.rid, code: hosted.code, message: hosted.message }
    this.#redis
      .publish(instanceChannel(request.reply), encodeBusMessage(reply))
      .catch((err: unknown) => this.#log.warn({ err }, 'relay: could not answer a forwarded pairing'))
  }

  #refreshHomes(): void {
    if (this.#homes.size === 0) return
    const entries = [...this.#homes]
    const pipe = this.#redis.pipeline()
    for (const [userId, value] of entries) (pipe as unknown as Scripts).p2pRefreshHome(homeKey(userId), value, this.#timing.homeTtlMs)
    pipe.exec().then(
      (results) => {
        // 0: a newer session elsewhere holds the record now; it is that instance's to keep fresh.
        results?.forEach(([, kept], i) => {
          const [userId, value] = entries[i]!
          if (kept === 0 && this.#homes.get(userId) === value) this.#homes.delete(userId)
        })
      },
      (err: unknown) => this.#log.warn({ err }, 'relay: could not refresh relay homes'),
    )
  }
}
