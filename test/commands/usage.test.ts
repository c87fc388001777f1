// Usage errors in pdhooks' own words: one line, exit 2, a suggestion where one helps, and never oclif's wording.
import {expect} from 'chai'

import {pdEnv} from '../support/fixtures.js'
import {run} from '../support/run.js'

const OCLIF_WORDING = /The following error|Parsing --|required arg|See more help with|Nonexistent flag|cannot also be provided|is not a pdhooks command/

async function usage(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const r = await run(args, env)
  expect(r.exit, `${args.join(' ')}\n${r.stdout}${r.stderr}`).to.equal(2)
  expect(r.stdout).to.equal('')
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines, r.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^Error: /)
  expect(lines[0]).not.to.match(OCLIF_WORDING)
  return lines[0]
}

describe('usage errors', () => {
  it('extra words after a command are unexpected arguments, not an unknown command', async () => {
    expect(await usage(['webhook:list', '9'])).to.equal('Error: Unexpected argument 9. pdhooks webhook list takes no arguments.')
    // as typed in a shell: oclif first reads "webhook list 9" as the command webhook:list:9
    expect(await usage(['webhook', 'list', '9'], pdEnv)).to.equal('Error: Unexpected argument 9. pdhooks webhook list takes no arguments.')
    expect(await usage(['instance', 'get', '1', '2'])).to.equal('Error: Unexpected argument 2. Usage: pdhooks instance get ID.')
    const r = await run(['webhook', 'list', '9', '--json'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.json().error).to.deep.equal({code: 'usage', message: 'Unexpected argument 9. pdhooks webhook list takes no arguments.', status: null})
  })

  it('an unknown command says which one was meant, off a terminal too (a message, not a prompt)', async () => {
    expect(await usage(['webhok', 'list'])).to.equal('Error: Unknown command "pdhooks webhok list". Did you mean "pdhooks webhook list"? Run "pdhooks help" for every command.')
    expect(await usage(['webhook', 'lst'])).to.equal('Error: Unknown command "pdhooks webhook lst". Did you mean "pdhooks webhook list"? pdhooks webhook has: add, delete, list, migrate.')
    expect(await usage(['auth', 'logn'])).to.contain('Did you mean "pdhooks auth login"?')
    expect(await usage(['lisen'])).to.contain('Did you mean "pdhooks listen"?')
    expect(await usage(['webhook', '9'])).to.equal('Error: Unknown command "pdhooks webhook 9". pdhooks webhook has: add, delete, list, migrate.')
    expect(await usage(['frobnicate'])).to.equal('Error: Unknown command "pdhooks frobnicate". Run "pdhooks help" for every command.')
    // a hostile command name cannot move the cursor or colour the terminal
    expect(await usage(['\u001B[2Jevil'])).to.contain(String.raw`"pdhooks \u001b[2Jevil"`)
    const r = await run(['webhok', 'list', '--json'])
    expect(r.exit).to.equal(2)
    expect(r.json().error).to.include({code: 'unknown_command'})
    expect(r.json().error.message).to.contain('Did you mean "pdhooks webhook list"?')
  })

  it("oclif's parser errors are reworded", async () => {
    expect(await usage(['webhook:list', '--timeout', 'abc'])).to.equal('Error: --timeout must be an integer (got "abc"). See "pdhooks webhook list --help".')
    expect(await usage(['webhook:list', '--timeout', '0'])).to.equal('Error: --timeout must be an integer greater than or equal to 1 (got "0"). See "pdhooks webhook list --help".')
    expect(await usage(['webhook:list', '--timeout'])).to.equal('Error: --timeout needs a value. See "pdhooks webhook list --help".')
    expect(await usage(['instance:get'])).to.equal('Error: Missing the ID (Instance id) argument. Usage: pdhooks instance get ID.')
    expect(await usage(['webhook:list', '--urll', 'x'])).to.equal('Error: Unknown flag --urll. Did you mean --url? See "pdhooks webhook list --help".')
    expect(await usage(['webhook:list', '--frobnicate'])).to.equal('Error: Unknown flag --frobnicate. See "pdhooks webhook list --help".')
    expect(await usage(['instance:create', '--events', 'bad'])).to.equal('Error: Invalid --events "bad": use webhook, polling or none.')
    expect(await usage(['pipeliner:webhook:add', '--url', 'https://example.com/pl'])).to.equal('Error: Missing --event. See "pdhooks pipeliner webhook add --help".')
    expect(await usage(['webhook:add', 'change.deal', '--url', 'https://example.com/h', '--generate-auth', '--http-auth-user', 'u', '--http-auth-password', 'hook-password-0123']))
    .to.equal('Error: --http-auth-password cannot be used with --generate-auth. See "pdhooks webhook add --help".')
    expect(await usage(['webhook:add', 'change.deal', '--url', 'https://example.com/h', '--generate-auth'], {PDHOOKS_HTTP_AUTH_PASSWORD: 'hook-password-0123'}))
    .to.equal('Error: PDHOOKS_HTTP_AUTH_PASSWORD (set in the environment, as --http-auth-password) cannot be used with --generate-auth. See "pdhooks webhook add --help".')
    const r = await run(['webhook:list', '--timeout', 'abc', '--json'])
    expect(r.json().error).to.deep.equal({code: 'usage', message: '--timeout must be an integer (got "abc"). See "pdhooks webhook list --help".', status: null})
  })

  it('OBJECT.ACTION suggests ACTION.OBJECT (deal.added → added.deal)', async () => {
    expect(await usage(['webhook:add', 'deal.added', '--url', 'https://example.com/h'], pdEnv)).to.contain('Did you mean "added.deal"? Events are ACTION.OBJECT.')
    expect(await usage(['webhook:add', 'Person.Change', '--url', 'https://example.com/h'], pdEnv)).to.contain('Did you mean "change.person"?')
  })

  it('--poll with a resource the poller cannot watch lists the valid ones', async () => {
    const create = ['instance:create', '--name', 'p', '--events', 'polling', '--callback-url', 'https://app.example.com/ce', '--pipedrive-email', 'a@example.com', '--pipedrive-password', 'pw-0123456789']
    expect(await usage([...create, '--poll', 'contacts,widgets'])).to.equal('Error: Unknown --poll resource "widgets". Valid resources: accounts, contacts, opportunities; for another, give the whole poller with --config \'event.poller.configuration={…}\'.')
    expect(await usage([...create, '--poll', 'contact'])).to.contain('Unknown --poll resource "contact". Did you mean "contacts"?')
  })

  it('--http-auth-user needs a password, and a password needs a user', async () => {
    const add = ['webhook:add', 'change.deal', '--url', 'https://example.com/h']
    expect(await usage([...add, '--http-auth-user', 'alice'], pdEnv)).to.equal('Error: --http-auth-user needs a password. Pass --http-auth-password, set PDHOOKS_HTTP_AUTH_PASSWORD, or use --generate-auth.')
    expect(await usage([...add, '--http-auth-password', 'hook-password-0123'], pdEnv)).to.equal('Error: --http-auth-password needs --http-auth-user.')
    expect(await usage(add, {...pdEnv, PDHOOKS_HTTP_AUTH_PASSWORD: 'hook-password-0123'}))
    .to.equal('Error: PDHOOKS_HTTP_AUTH_PASSWORD is set, but --http-auth-user is not. Pass --http-auth-user, or unset PDHOOKS_HTTP_AUTH_PASSWORD.')
    expect(await usage(['setup', '--instance', '5', '--http-auth-user', 'alice', '--yes'], pdEnv)).to.contain('--http-auth-user needs a password.')
  })
})
