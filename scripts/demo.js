// `npm run demo`: a discovery server and two users, alice and bob, in temporary homes, talking
// through the real `p2p` command. Every command is printed as a shell session would show it.
// Everything started here is stopped and every file removed at the end, also on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const work = mkdtempSync(join(tmpdir(), 'p2p-demo-'))
const homes = { alice: join(work, 'alice'), bob: join(work, 'bob') }
const env = { ...process.env, P2P_RETRY_MAX_MS: '1000' }
const bold = process.stdout.isTTY && !process.env.NO_COLOR ? (s) => `\x1b[1m${s}\x1b[0m` : (s) => s

let server
let failed = false

function say(text) {
  console.log(`\n${bold(`# ${text}`)}`)
}

/** Runs `p2p ARGS` as USER (in that user's home), shows it like a shell session, returns stdout. */
function p2p(user, args, { quiet = false, input, expectCode = quiet ? undefined : 0 } = {}) {
  const shown = args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')
  const piped = input === undefined ? '' : `printf '${input.replaceAll('\n', '\\n')}' | `
  if (!quiet) console.log(`${user}$ ${piped}p2p ${shown}`)
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...env, P2P_HOME: homes[user] },
    encoding: 'utf8',
    input,
  })
  if (!quiet) process.stdout.write(result.stdout.replace(/^/gm, '  ').replace(/ {2}$/, ''))
  if (result.status !== 0 && !quiet) {
    process.stdout.write(result.stderr.replace(/^/gm, '  ').replace(/ {2}$/, ''))
  }
  if (expectCode !== undefined && result.status !== expectCode) {
    throw new Error(`p2p ${shown} exited with ${result.status}, expected ${expectCode}`)
  }
  return { out: result.stdout, code: result.status }
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function startServer() {
  return new Promise((resolve, reject) => {
    console.log('$ p2p server --port 0 --memory')
    server = spawn(process.execPath, [bin, 'server', '--host', '127.0.0.1', '--port', '0', '--memory'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let out = ''
    server.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk
      const match = /listening on (\S+)/.exec(out)
      if (match) {
        console.log(`  listening on ${match[1]}`)
        resolve(match[1])
      }
    })
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

function cleanup() {
  for (const user of Object.keys(homes)) p2p(user, ['daemon', 'stop'], { quiet: true })
  server?.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}

process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

try {
  say('A discovery server tells users where to find each other.')
  const url = await startServer()

  say('Each user runs a daemon in their own profile. The first start names the user.')
  p2p('alice', ['daemon', 'start', '--user', 'alice', '--server', url])
  p2p('bob', ['daemon', 'start', '--user', 'bob', '--server', url])
  await until('both users online', () => {
    const out = p2p('alice', ['discover', '--json'], { quiet: true }).out
    return out.includes('"bob"')
  })

  say('They discover each other; the fingerprint identifies the key behind a name.')
  p2p('alice', ['discover'])
  p2p('bob', ['discover'])

  say('Messages both ways, over one encrypted and mutually authenticated link.')
  p2p('alice', ['msg', 'bob', 'hi bob, this is alice'])
  p2p('bob', ['msg', 'alice', 'hello alice!'])
  p2p('bob', ['history'])

  say('Shell pipelines: every line of stdin is a message.')
  p2p('alice', ['msg', 'bob'], { input: 'one\ntwo\nthree\n' })

  say('Bob goes offline; alice’s message waits in her outbox and survives there.')
  p2p('bob', ['daemon', 'stop'])
  p2p('alice', ['msg', 'bob', 'are you still there?', '--timeout', '2'])
  p2p('alice', ['daemon', 'status'])

  say('Bob comes back: the queued message is delivered by itself.')
  p2p('bob', ['daemon', 'start'])
  await until('the queued message to arrive', () => p2p('bob', ['history', '--json'], { quiet: true }).out.includes('are you still there?'))
  p2p('bob', ['history', 'alice', '--limit', '3'])

  say('Never online together: alice’s message waits in bob’s mailbox, sealed to his key.')
  p2p('bob', ['daemon', 'stop'])
  p2p('alice', ['msg', 'bob', 'see you tomorrow', '--timeout', '15'])
  p2p('alice', ['daemon', 'stop'])
  p2p('bob', ['daemon', 'start'])
  await until('bob to open his mailbox', () => p2p('bob', ['history', '--json'], { quiet: true }).out.includes('see you tomorrow'))
  p2p('bob', ['history', 'alice', '--limit', '1'])
  say('Alice comes back: bob’s acknowledgement waited in her mailbox.')
  p2p('alice', ['daemon', 'start'])
  await until('the acknowledgement', () =>
    JSON.parse(p2p('alice', ['history', 'bob', '--json'], { quiet: true }).out).some(
      (m) => m.text === 'see you tomorrow' && m.status === 'delivered',
    ),
  )
  p2p('alice', ['history', 'bob', '--limit', '1'])

  say('Bob blocks alice: her daemon cannot reach his, nothing of hers is stored.')
  p2p('bob', ['block', 'alice'])
  p2p('alice', ['msg', 'bob', 'can you hear me?', '--timeout', '2'])
  p2p('bob', ['msg', 'alice', 'psst'], { expectCode: 5 })
  p2p('bob', ['unblock', 'alice'])
  await until('the held message to arrive', () => p2p('bob', ['history', '--json'], { quiet: true }).out.includes('can you hear me?'))
  p2p('bob', ['history', 'alice', '--limit', '1'])

  say('Bob mutes alice for ten minutes: her messages are kept but not shown.')
  p2p('bob', ['mute', 'alice', '--for', '10m'])
  p2p('alice', ['msg', 'bob', 'this one is muted'])
  p2p('bob', ['history', 'alice', '--limit', '2'])
  p2p('bob', ['history', 'alice', '--limit', '2', '--include-muted'])
  p2p('bob', ['peers'])

  say('Done: stopping both daemons and the server, removing the temporary homes.')
} catch (error) {
  failed = true
  console.error(`demo failed: ${error.message}`)
} finally {
  cleanup()
}
process.exit(failed ? 1 : 0)
