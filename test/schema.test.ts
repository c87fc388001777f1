import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import * as Y from 'yaml'

import {parseDesiredState} from '../src/lib/workflows/apply/file.js'
import {root} from './support/run.js'

const schema = JSON.parse(readFileSync(join(root, 'schema', 'pdhooks.schema.json'), 'utf8'))
const validate = new Ajv2020({allErrors: true, strict: false}).compile(schema)
/** The complete pdhooks.yaml example of the README (the block after "A complete `pdhooks.yaml`"). */
const readmeExample = (() => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const from = readme.indexOf('A complete `pdhooks.yaml`')
  return /```yaml\n([\s\S]*?)```/.exec(readme.slice(from))![1]
})()

describe('pdhooks.yaml JSON Schema', () => {
  it("accepts the README's complete example, which apply also accepts", () => {
    // like apply, read ${VAR} as a value (unquoted inside {…} it is not plain YAML; apply tokenizes it first)
    const doc = Y.parse(readmeExample.replaceAll(/\$\{\w+\}/g, 'value'))
    expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true)
    const env = {
      CE_SIGNATURE_KEY: 'k', PD_HOOK_PASSWORD: 'p', PIPEDRIVE_PASSWORD: 'p', PL_SIGNATURE: '01234567-abcd-dcba-ffff-000000000000',
    }
    const state = parseDesiredState(readmeExample, 'README.md', env, Y)
    expect(state.instances.map(i => i.name)).to.deep.equal(['crm-events', 'pdhooks-poller'])
    expect(state.stack).to.equal('prod-hooks')
  })

  it('rejects what apply rejects: unknown fields, a bad events mode, a webhook without url', () => {
    expect(validate({instances: [{colour: 'red', name: 'a'}]})).to.equal(false)
    expect(validate({instances: [{events: 'sometimes', name: 'a'}]})).to.equal(false)
    expect(validate({pipedrive: {webhooks: [{event: 'change.deal'}]}})).to.equal(false)
    expect(validate({pipeliner: {webhooks: [{events: [], url: 'https://x.example'}]}})).to.equal(false)
    expect(validate({stack: 'prod hooks'})).to.equal(false)
    expect(validate({stack: 'x'.repeat(41)})).to.equal(false)
    expect(validate({stack: 'prod-hooks_2.eu'})).to.equal(true)
  })
})
