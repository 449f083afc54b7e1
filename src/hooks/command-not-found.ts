/**
 * `p2p nosuch`: a usage error (exit 2) with a suggestion, and with `--json` the same as every
 * other failure, one `{"error":{…}}` document on stdout.
 */
import type { Hook } from '@oclif/core'
import { nearest } from '../cli/suggest.js'
import { ErrorCode } from '../protocol/errors.js'

const hook: Hook.CommandNotFound = async (options) => {
  // oclif folds the words after the command into the id ("msg:bob"): keep the topic and command only.
  const words = options.id.split(':')
  const typed = words.slice(0, options.config.findTopic(words[0] as string) ? 2 : 1).join(' ')
  const ids = options.config.commandIDs.map((id) => id.replaceAll(':', ' '))
  const suggestion = nearest(typed, ids)
  const message = `"${typed}" is not a p2p command${suggestion ? `; did you mean "${suggestion}"?` : ''} (see p2p --help)`
  if (options.argv?.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code: ErrorCode.Usage, message } })}\n`)
  else process.stderr.write(`p2p: ${message}\n`)
  process.exit(2)
}

export default hook
