import {expect} from 'chai'
import stringWidth from 'string-width'

import {
  type Column, fitTable, table,
} from '../../../src/lib/cli/output.js'
import {forgetSecrets, registerSecret} from '../../../src/lib/core/mask.js'
import {printable} from '../../../src/lib/core/text.js'

interface Row {
  event: string
  health: string
  id: number
  status: string
  url: string
  user: number
}

const rows: Row[] = [
  {
    event: 'change.deal', health: 'ok', id: 1, status: '200', url: 'https://hooks.example.com/a/very/long/path/to/the/receiver/MjA5MzE=', user: 12_345_678,
  },
  {
    event: '*.*', health: 'never-delivered', id: 123_456, status: '-', url: 'https://short.example.com/h', user: 7,
  },
]
const columns: Array<Column<Row>> = [
  {get: r => r.id, header: 'ID'},
  {get: r => r.event, header: 'EVENT'},
  {get: r => r.url, header: 'TARGET', truncate: 'middle'},
  {drop: 2, get: r => r.user, header: 'USER'},
  {drop: 1, get: r => r.status, header: 'LAST STATUS'},
  {get: r => r.health, header: 'HEALTH'},
]

describe('tables', () => {
  afterEach(() => forgetSecrets())

  it('without a width: every value in full, aligned', () => {
    const lines = table(rows, columns).split('\n')
    expect(lines).to.have.length(3)
    expect(lines[1]).to.contain(rows[0].url)
    expect(lines[0].indexOf('USER')).to.equal(lines[1].indexOf('12345678'))
  })

  for (const width of [60, 72, 100]) {
    it(`fits ${width} columns: rows stay one line, the widest column is cut with …`, () => {
      const t = fitTable(rows, columns, {width})
      const lines = t.text.split('\n')
      expect(lines).to.have.length(3)
      for (const l of lines) expect(stringWidth(l), l).to.be.at.most(width)
      expect(t.truncated).to.equal(true)
      // a URL is cut in the middle: its start and its distinctive end stay
      expect(lines[1]).to.match(/https:\/\/ho\S*…\S*5MzE= /)
      if (width >= 100) expect(lines[2]).to.contain('https://short.example.com/h')
    })
  }

  it('leaves out the columns with the highest drop first when cutting is not enough', () => {
    const t = fitTable(rows, columns, {width: 60})
    expect(t.hidden).to.deep.equal(['USER', 'LAST STATUS'])
    expect(t.text.split('\n')[0].split(/\s{2,}/)).to.deep.equal(['ID', 'EVENT', 'TARGET', 'HEALTH'])
    const roomy = fitTable(rows, columns, {width: 72})
    expect(roomy.hidden).to.deep.equal(['USER'])
    const all = fitTable(rows, columns, {width: 200})
    expect(all).to.deep.include({hidden: [], truncated: false})
  })

  it('a value that is not a URL is cut at the end', () => {
    const t = fitTable([{name: 'instance 20931 (api.cloud-elements.com)'}], [{get: r => r.name, header: 'TARGET', truncate: 'middle'}], {width: 24})
    expect(t.text.split('\n')[1]).to.equal('instance 20931 (api.clo…')
  })

  it('escapes control characters: a hostile value cannot break a row, move the cursor or colour the terminal', () => {
    const evil = [{name: 'evil\nname\r\u001B[31mred\u001B]0;title\u0007', v: 'x'}]
    const lines = table(evil, [{get: r => r.name, header: 'NAME'}, {get: r => r.v, header: 'V'}]).split('\n')
    expect(lines).to.have.length(2)
    expect(lines[1]).to.equal(String.raw`evil\nname\r\u001b[31mred\u001b]0;title\u0007  x`)
    expect(printable('tab\there')).to.equal(String.raw`tab\there`)
  })

  it('masks secrets before measuring, so columns stay aligned', () => {
    registerSecret('a-secret-value-0123456789')
    const lines = table([{a: 'key a-secret-value-0123456789', b: 'x'}, {a: 'short', b: 'y'}], [{get: r => r.a, header: 'A'}, {get: r => r.b, header: 'B'}]).split('\n')
    expect(lines[1]).to.equal('key a-se…  x')
    expect(lines[2]).to.equal('short      y')
  })

  it('measures wide characters as two columns', () => {
    const lines = table([{a: '東京', b: 'x'}, {a: 'ab', b: 'y'}], [{get: r => r.a, header: 'A'}, {get: r => r.b, header: 'B'}]).split('\n')
    expect(lines[1]).to.equal('東京  x')
    expect(lines[2]).to.equal('ab    y')
    const cut = fitTable([{a: '東京都千代田区丸の内一丁目', b: 'x'}], [{get: r => r.a, header: 'A', truncate: 'end'}, {get: r => r.b, header: 'B'}], {width: 14})
    for (const l of cut.text.split('\n')) expect(stringWidth(l)).to.be.at.most(14)
  })

  it('colours after cutting (padding counts the text, not the colour codes)', () => {
    const lines = table([{h: 'ok', v: 'x'}, {h: 'failing', v: 'y'}], [{color: t => `<${t}>`, get: r => r.h, header: 'H'}, {get: r => r.v, header: 'V'}]).split('\n')
    expect(lines[1]).to.equal('<ok>       x')
    expect(lines[2]).to.equal('<failing>  y')
  })
})
