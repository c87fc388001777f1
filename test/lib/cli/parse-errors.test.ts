// oclif's parse failures reach the user in pdhooks' words, read from the fields of oclif's errors (and from
// pdhooks' own checks of each flag's value), never from oclif's text: the errors here are oclif's real ones.
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {parse} from '@oclif/core/parser'
import {expect} from 'chai'

import {
  type CommandShape, FlagValueError, guardFlags, parseFailure,
} from '../../../src/lib/cli/parse-errors.js'
import {ExitCode, PdhooksError, usageError} from '../../../src/lib/core/errors.js'

const flags = {
  all: Flags.boolean({exclusive: ['url']}),
  count: Flags.integer({max: 16, min: 1}),
  event: Flags.string({dependsOn: ['url']}),
  format: Flags.string({options: ['pipedrive', 'elements', 'pipeliner']}),
  key: Flags.string({
    async parse(input) {
      if (input.length < 8) throw usageError('--key is too short: 8 characters or more.')
      return input
    },
  }),
  name: Flags.string(),
  url: Flags.string(),
}
const args = {id: Args.string({description: 'Instance id.', required: true})}
const shape = (env: Record<string, string> = {}): CommandShape => ({
  args: [{description: 'Instance id.', name: 'id'}],
  flags: Object.keys(flags),
  fromEnv: f => env[f],
  options: f => (flags as Record<string, {options?: string[]}>)[f]?.options,
  usage: 'pdhooks thing get',
})

/** The error oclif's parser throws for argv (with pdhooks' checked flags), in pdhooks' words. */
async function failure(argv: string[], opts: {args?: Record<string, any>; command?: CommandShape; flags?: Record<string, any>; strict?: boolean} = {}): Promise<PdhooksError> {
  let thrown: unknown
  try {
    await parse(argv, {args: (opts.args ?? args) as any, flags: guardFlags(opts.flags ?? flags) as any, strict: opts.strict ?? true})
  } catch (error) {
    thrown = error
  }

  expect(thrown, `${argv.join(' ')} parsed`).not.to.equal(undefined)
  const e = parseFailure(thrown, opts.command ?? shape())
  expect(e, String((thrown as Error).message)).to.be.instanceOf(PdhooksError)
  return e!
}

describe('parse errors (cli/parse-errors.ts)', () => {
  it('unknown flags, with a did-you-mean; unexpected and missing arguments, with the usage', async () => {
    expect((await failure(['1', '--urll', 'x'])).line).to.equal('Unknown flag --urll. Did you mean --url? See "pdhooks thing get --help".')
    expect((await failure(['1', '--frobnicate=3'])).line).to.equal('Unknown flag --frobnicate. See "pdhooks thing get --help".')
    expect((await failure(['1', '2', '3'])).line).to.equal('Unexpected arguments 2, 3. Usage: pdhooks thing get ID.')
    expect((await failure(['9'], {args: {}, command: {...shape(), args: []}})).line).to.equal('Unexpected argument 9. pdhooks thing get takes no arguments.')
    const missing = await failure([])
    expect(missing.line).to.equal('Missing the ID (Instance id) argument. Usage: pdhooks thing get ID.')
    expect(missing).to.include({code: 'usage', exit: ExitCode.usage})
  })

  it('flag values: integers with their bounds, a list of values, a value missing or given twice', async () => {
    expect((await failure(['1', '--count', 'abc'])).line).to.equal('--count must be an integer (got "abc"). See "pdhooks thing get --help".')
    expect((await failure(['1', '--count', '0'])).line).to.equal('--count must be an integer greater than or equal to 1 (got "0"). See "pdhooks thing get --help".')
    expect((await failure(['1', '--count=17'])).line).to.equal('--count must be an integer less than or equal to 16 (got "17"). See "pdhooks thing get --help".')
    expect((await failure(['1', '--format', 'zapier'])).line).to.equal('Invalid --format "zapier": use pipedrive, elements or pipeliner.')
    expect((await failure(['1', '--format'])).line).to.equal('--format needs a value: pipedrive, elements or pipeliner.')
    expect((await failure(['1', '--name'])).line).to.equal('--name needs a value. See "pdhooks thing get --help".')
    expect((await failure(['1', '--name', 'a', '--name', 'b'])).line).to.equal('--name was given more than once: give it once.')
  })

  it("a flag's own parse function speaks for itself: its PdhooksError comes back unchanged (oclif cannot prefix it)", async () => {
    const e = await failure(['1', '--key', 'short'])
    expect(e.message).to.equal('--key is too short: 8 characters or more.')
    expect(e.exit).to.equal(ExitCode.usage)
  })

  it('flag rules from the parser run: exclusive (naming the variable that set a flag), dependsOn, required, exactlyOne, atLeastOne', async () => {
    expect((await failure(['1', '--all', '--url', 'x'])).line).to.equal('--url cannot be used with --all. See "pdhooks thing get --help".')
    expect((await failure(['1', '--all', '--url', 'x'], {command: shape({url: 'PDHOOKS_URL'})})).message)
    .to.equal('PDHOOKS_URL (set in the environment, as --url) cannot be used with --all.')
    expect((await failure(['1', '--event', 'change.deal'])).message).to.equal('--event needs --url.')
    const rules = {
      a: Flags.string({exactlyOne: ['a', 'b']}),
      b: Flags.string({exactlyOne: ['a', 'b']}),
      c: Flags.string({atLeastOne: ['c', 'd']}),
      d: Flags.string(),
      e: Flags.string({required: true}),
    }
    const none = await failure([], {args: {}, flags: rules})
    expect(none.message).to.equal('Give exactly one of --a or --b. Give at least one of --c or --d. Missing --e.')
    expect((await failure(['--a', '1', '--b', '2', '--c', '3', '--e', '4'], {args: {}, flags: rules})).message).to.equal('--b cannot be used with --a. --a cannot be used with --b.')
  })

  it("reads oclif's fields, not its wording: the same failures with their messages replaced still read the same", async () => {
    const cases: Array<[string[], string]> = [
      [['1', '--urll', 'x'], 'Unknown flag --urll.'],
      [['1', '2'], 'Unexpected argument 2.'],
      [[], 'Missing the ID (Instance id) argument.'],
      [['1', '--all', '--url', 'x'], '--url cannot be used with --all.'],
    ]
    for (const [argv, message] of cases) {
      let thrown: any
      try {
        await parse(argv, {args: args as any, flags: guardFlags(flags) as any, strict: true})
      } catch (error) {
        thrown = error
      }

      thrown.message = 'Something oclif 5 might say instead'
      expect(parseFailure(thrown, shape())?.message).to.equal(message)
    }
  })

  it('anything else: not a parse failure, or a usage error of oclif that pdhooks has no words for (its first line)', () => {
    expect(parseFailure(new Error('boom'), shape())).to.equal(undefined)
    expect(parseFailure('text', shape())).to.equal(undefined)
    const odd = Object.assign(new Error('Something new\nSee more help with --help'), {oclif: {exit: 2}})
    expect(parseFailure(odd, shape())).to.include({
      code: 'usage', exit: 2, hint: 'See --help.', message: 'Something new.',
    })
    // a flag parse function failing with a plain error: its message, as a usage error
    expect(parseFailure(new FlagValueError('since', 'yesterday', {cause: new Error('no date')}), shape())).to.include({exit: 2, message: 'no date.'})
  })
})
