import type {Hook} from '@oclif/core'

import {scrub} from '../core/mask.js'
import {closest} from '../core/suggest.js'
import {printable} from '../core/text.js'
import {stderrStyle} from './output.js'

/**
 * oclif's `command_not_found` hook. With spaces between words, oclif reads `webhook list 9` as the command
 * `webhook:list:9`: when a prefix of the words is a command, the rest are its arguments and that command runs (so its
 * own parser says "Unexpected argument 9."). Otherwise the error says which command was meant, on a terminal or not
 * (a message, never a prompt), exit 2; one JSON document under --json.
 */
export const commandNotFound: Hook<'command_not_found'> = async function (opts) {
  const {config} = opts
  const argv = opts.argv ?? []
  const words = opts.id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const id = words.slice(0, n).join(':')
    if (config.findCommand(id)) return config.runCommand(id, [...words.slice(n), ...argv])
  }

  const visible = config.commands.filter(c => !c.hidden).map(c => c.id)
  const typed = words.join(' ')
  const topic = config.findTopic(words[0]) ? words[0] : undefined
  const inTopic = topic ? visible.filter(id => id.startsWith(`${topic}:`)).map(id => id.slice(topic.length + 1).replaceAll(':', ' ')) : []
  // within a topic, only the words after it are compared (`webhook 9` is not a misspelt `webhook add`)
  const near = topic ? closest(words.slice(1).join(' '), inTopic) : undefined
  const guess = topic ? (near ? `${topic} ${near}` : undefined) : closest(typed, visible.map(id => id.replaceAll(':', ' ')))
  const message = `Unknown command "${config.bin} ${printable(typed)}".`
  const hint = [
    guess ? `Did you mean "${config.bin} ${guess}"?` : undefined,
    inTopic.length > 0 ? `${config.bin} ${topic} has: ${inTopic.join(', ')}.` : `Run "${config.bin} help" for every command.`,
  ].filter(Boolean).join(' ')
  if (argv.includes('--json')) {
    process.stdout.write(scrub(JSON.stringify({error: {code: 'unknown_command', message: `${message} ${hint}`, status: null}}, null, 2)) + '\n')
  } else {
    process.stderr.write(scrub(`${stderrStyle.red('Error:')} ${message} ${hint}`) + '\n')
  }

  this.exit(2)
}
