/**
 * The daemon's services, made from an open profile and wired to each other: stores, the message
 * pipeline (outbox, inbox), the peer-link supervisor with its dialer and frame router, and what
 * the control methods are answered from. No sockets are opened here; `daemon.ts` starts them.
 */
import { registeredAddress } from '../protocol/advertise.js'
import { toHex } from '../protocol/identity.js'
import { startActorSystem } from './actor-system.js'
import type { DaemonTuning } from './config.js'
import { DiscoveryClient } from './discovery-client.js'
import { EventHub } from './event-hub.js'
import { FrameRouter } from './frame-router.js'
import { Inbox } from './inbox.js'
import { KeyConflicts } from './key-conflicts.js'
import { LinkSupervisor } from './link-supervisor.js'
import { Messaging } from './messaging.js'
import { OnlinePeers } from './online-peers.js'
import type { OpenProfile } from './open-profile.js'
import { Outbox } from './outbox.js'
import { PeerDialer } from './peer-dialer.js'
import { PeerDirectory } from './peer-directory.js'
import { PeerKeyResolver } from './peer-key-resolver.js'
import { RelayControl } from './relay-client.js'
import { RelayDialer } from './relay-dialer.js'
import { MessageStore } from './stores/message-store.js'
import { PeerStore } from './stores/peer-store.js'
import { PolicyStore } from './stores/policy-store.js'
import { WriteBatcher } from './stores/write-batcher.js'
import type { Teardown } from './teardown.js'

export type DaemonServices = ReturnType<typeof createServices>

export function createServices(profile: OpenProfile, tuning: DaemonTuning, teardown: Teardown) {
  const { db, log, identity, settings } = profile
  const { userId } = settings
  const batcher = new WriteBatcher(db, profile.durability)
  teardown.push('flush pending writes', () => batcher.flush())
  const messages = new MessageStore(db)
  const peers = new PeerStore(db)
  const events = new EventHub()
  const keyConflicts = new KeyConflicts()
  const outbox = new Outbox(messages, batcher)
  // The policy actor starts with the actor system below; nothing asks it before then.
  const isBlocked = (peer: string) => system.policy.isBlocked(peer)
  const inbox = new Inbox(messages, { isMuted: (peer) => system.policy.isMuted(peer) }, batcher, events, (error) =>
    log.error({ err: error }, 'could not store an incoming message'),
  )
  const discovery = new DiscoveryClient(settings.serverUrl, identity, userId, profile.instance)
  const relay = new RelayDialer({
    serverUrl: settings.serverUrl,
    control: () => system.relayConnection(),
    accept: (socket) => links.accept(socket, 'relayed'),
    log,
    // The relay's pairing timeout (15 s) and a margin.
    timeoutMs: 20_000,
    maxPendingIncoming: 16,
  })
  const dialer = new PeerDialer({ identity, userId, discovery, peers, isBlocked, log, timing: tuning.links, relay })
  const router = new FrameRouter({ inbox, outbox, log, peerRate: tuning.links.peerRate })
  const online = new OnlinePeers(discovery, userId)
  const links = new LinkSupervisor({
    myKey: toHex(identity.publicKey),
    dialer,
    router,
    outbox,
    isBlocked,
    keyConflicts,
    log,
    timing: tuning.links,
    peersChanged: () => online.markStale(),
  })
  let listenPort = 0
  const system = startActorSystem({
    discoveryApi: {
      register: async (signal) => {
        const address = registeredAddress(listenPort, settings.advertise)
        const lease = await discovery.register(address.port, address.host, signal)
        profile.confirmUserId()
        return lease
      },
      keepalive: (signal) => discovery.keepalive(signal),
      unregister: (signal) => discovery.unregister(signal),
    },
    discoveryBackoff: tuning.discoveryBackoff,
    policyStore: new PolicyStore(db),
    relayConnect: async (signal) => {
      const control = await RelayControl.connect({
        serverUrl: settings.serverUrl,
        identity,
        userId,
        signal,
        timeoutMs: 10_000,
        onIncoming: (circuit) => relay.incoming(circuit),
      })
      log.info('relay connected')
      control.on('close', (reason) => log.info({ reason }, 'relay connection lost'))
      return control
    },
    relayPingIntervalMs: tuning.links.pingIntervalMs,
    links,
    events,
    log,
  })
  teardown.push('stop the actor system', () => system.stop())
  const messaging = new Messaging({
    me: userId,
    peers,
    messages,
    outbox,
    links,
    keyConflicts,
    keys: new PeerKeyResolver(peers, discovery),
    isBlocked,
  })
  const directory = new PeerDirectory({
    me: userId,
    online,
    peers,
    keyConflicts,
    isConnected: (peer) => links.isConnected(peer),
    linkOf: (peer) => links.linkOf(peer),
    policyOf: (peer) => system.policy.get(peer),
    policyUserIds: () => system.policy.userIds(),
  })
  /** The listener is up on `port` (0: no listener, `--listen off`): register it. */
  const goOnline = (port: number) => {
    listenPort = port
    system.goOnline()
  }
  return { messages, events, outbox, links, online, messaging, directory, policy: system.policy, keyConflicts, system, goOnline }
}
