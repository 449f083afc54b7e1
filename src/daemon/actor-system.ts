/**
 * Starts the daemon's actor system (daemon.machine.ts) with this daemon's effects, and connects
 * what its children announce: a block closes the peer's link, an unblock lets queued messages
 * out, a timed mute that ends is told to `watch` and `chat` subscribers.
 */
import type { Logger } from 'pino'
import { type Actor, createActor, fromCallback, fromPromise, waitFor } from 'xstate'
import { ActorTree, type InspectedActor } from './actor-tree.js'
import type { BackoffPolicy } from './backoff.js'
import { daemonMachine, type LinksEvent } from './daemon.machine.js'
import type { DiscoveryApi, DiscoveryFailure, discoveryMachine } from './discovery.machine.js'
import { discoveryMachineFor } from './discovery.machine.js'
import type { EventHub } from './event-hub.js'
import type { LinkSupervisor } from './link-supervisor.js'
import { type PolicyActor, type PolicyActorRef, policyFacade, policyInput, policyMachineFor } from './policy.machine.js'
import { type RelayConnection, relayMachine } from './relay.machine.js'
import type { PolicyStore } from './stores/policy-store.js'

export interface ActorSystemDeps {
  discoveryApi: DiscoveryApi
  discoveryBackoff: BackoffPolicy
  policyStore: PolicyStore
  /** Opens and authenticates a relay connection (RelayControl.connect). */
  relayConnect(signal: AbortSignal): Promise<RelayConnection>
  relayPingIntervalMs: number
  links: Pick<LinkSupervisor, 'block' | 'resume' | 'stop'>
  events: EventHub
  log: Logger
}

export interface ActorSystem {
  policy: PolicyActor
  tree: ActorTree
  /** The listener is up: discovery may register its port. */
  goOnline(): void
  /** The discovery actor's registration, while it runs. */
  registration(): { registered: boolean; lastError?: DiscoveryFailure }
  /** The relay connection's state, for `status`. */
  relay(): { connected: boolean; error?: string }
  /** The live relay connection, if any: read from the relay actor, its one owner. */
  relayConnection(): RelayConnection | undefined
  /** Unregisters from the server, waiting a bounded time for it. */
  unregister(): Promise<void>
  /** Stops every actor (the links child closes the peer links). */
  stop(): void
}

export function startActorSystem(deps: ActorSystemDeps): ActorSystem {
  const { links, events, log } = deps
  const tree = new ActorTree()
  const machine = daemonMachine.provide({
    actors: {
      discovery: discoveryMachineFor(deps.discoveryApi),
      policy: policyMachineFor(deps.policyStore),
      relay: relayMachine.provide({ actors: { connect: fromPromise(({ signal }) => deps.relayConnect(signal)) } }),
      links: fromCallback<LinksEvent>(({ receive }) => {
        receive((event) => (event.type === 'BLOCK' ? links.block(event.peer) : links.resume(event.peer)))
        return () => links.stop()
      }),
    },
    actions: {
      childFailed: (_, { child, error }) => log.error({ err: error, child }, `${child} actor failed`),
    },
  })
  const root = createActor(machine, {
    systemId: 'daemon',
    input: {
      discovery: { backoff: deps.discoveryBackoff },
      policy: policyInput(deps.policyStore),
      relay: { backoff: deps.discoveryBackoff, pingIntervalMs: deps.relayPingIntervalMs },
      restartDelayMs: deps.discoveryBackoff.maxMs,
    },
    inspect: tree.inspect,
  })
  root.subscribe({ error: (error) => log.error({ err: error }, 'daemon actor failed') })
  root.start()
  logDiscovery(root, log)

  const policyRef = root.system.get('policy') as PolicyActorRef
  const linksRef = () => root.system.get('links') as Actor<ReturnType<typeof fromCallback<LinksEvent>>> | undefined
  policyRef.on('blocked', ({ peer }) => linksRef()?.send({ type: 'BLOCK', peer }))
  policyRef.on('unblocked', ({ peer }) => linksRef()?.send({ type: 'WAKE', peer }))
  policyRef.on('muteEnded', ({ peer }) => events.publish({ type: 'muteEnded', peer, at: new Date().toISOString() }))

  const discovery = () => root.system.get('discovery') as Actor<typeof discoveryMachine> | undefined
  const relay = () => (root.system.get('relay') as Actor<typeof relayMachine> | undefined)?.getSnapshot().context
  const relayConnection = () => {
    const conn = relay()?.conn
    return conn && !conn.closed ? conn : undefined
  }
  return {
    policy: policyFacade(policyRef),
    tree,
    goOnline: () => root.send({ type: 'LISTENING' }),
    registration: () => {
      const context = discovery()?.getSnapshot().context
      return { registered: context?.registered ?? false, ...(context?.lastError ? { lastError: context.lastError } : {}) }
    },
    relay: () => {
      const error = relay()?.lastError
      return { connected: relayConnection() !== undefined, ...(error && !relayConnection() ? { error } : {}) }
    },
    relayConnection,
    unregister: async () => {
      const actor = discovery()
      if (!actor) return
      actor.send({ type: 'STOP' })
      await waitFor(actor, (s) => s.status === 'done', { timeout: 3000 }).catch(() => undefined)
    },
    stop: () => root.stop(),
  }
}

/** Logs each change of the discovery state (not every renewal): what `daemon.log` readers need. */
function logDiscovery(root: Actor<typeof daemonMachine>, log: Logger): void {
  let last = ''
  root.system.inspect({
    next: (event) => {
      if (event.type !== '@xstate.snapshot' || (event.actorRef as unknown as InspectedActor).systemId !== 'discovery') return
      const snapshot = event.snapshot as ReturnType<Actor<typeof discoveryMachine>['getSnapshot']>
      const { registered, lastError } = snapshot.context
      const state = `${String(snapshot.value)}${lastError ? `: ${lastError.message}` : ''}`
      if (state === last) return
      last = state
      log.info({ discovery: snapshot.value, registered, error: lastError?.message, code: lastError?.code }, 'discovery')
    },
  })
}
