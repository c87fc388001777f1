import {expect} from 'chai'

import {
  ALL_PIPELINER_EVENTS, covers, didYouMean, entitiesOf, eventsOverlap, normalizeEventLoose, parsePipelinerEvent, parsePipelinerEvents,
  PIPELINER_ENTITIES, PIPELINER_EVENTS, sameEventSet,
} from '../../../src/lib/pipeliner/events.js'
import {usage} from '../../support/usage.js'

const BASE = ['Create', 'Update', 'Delete', 'DocumentLinked', 'OwnerChanged']

describe('pipeliner events', () => {
  it('holds the seed table exactly', () => {
    expect(PIPELINER_EVENTS).to.deep.equal({
      Account: BASE,
      Contact: BASE,
      Opportunity: [...BASE, 'Move', 'Lost', 'Won', 'Qualify'],
      Lead: [...BASE, 'Lost', 'BackToLead'],
      Task: [...BASE, 'Comment'],
      Email: ['Create', 'Update', 'Delete', 'DocumentLinked'],
      Appointment: [...BASE, 'Comment'],
      Product: ['Create', 'Update', 'Delete'],
      OpptyProductRelation: ['Create', 'Update', 'Delete'],
      CustomEntity: BASE,
    })
    expect(ALL_PIPELINER_EVENTS).to.have.length(5 + 5 + 9 + 7 + 6 + 4 + 6 + 3 + 3 + 5)
  })

  it('accepts *, Entity.* and every Entity.Event, normalizing case to the canonical spelling', () => {
    expect(parsePipelinerEvent('*')).to.equal('*')
    expect(parsePipelinerEvent(' opportunity.* ')).to.equal('Opportunity.*')
    expect(parsePipelinerEvent('account.create')).to.equal('Account.Create')
    expect(parsePipelinerEvent('LEAD.BACKTOLEAD')).to.equal('Lead.BackToLead')
    expect(parsePipelinerEvent('opptyproductrelation.delete')).to.equal('OpptyProductRelation.Delete')
    expect(parsePipelinerEvent('customentity.ownerchanged')).to.equal('CustomEntity.OwnerChanged')
    for (const e of ALL_PIPELINER_EVENTS) {
      expect(parsePipelinerEvent(e)).to.equal(e)
      expect(parsePipelinerEvent(e.toLowerCase())).to.equal(e)
    }

    for (const e of PIPELINER_ENTITIES) expect(parsePipelinerEvent(`${e.toUpperCase()}.*`)).to.equal(`${e}.*`)
  })

  it('rejects events an entity does not have, listing the valid ones', () => {
    const e = usage(() => parsePipelinerEvent('Account.Won'))
    expect(e.code).to.equal('bad_event')
    expect(e.line).to.contain('Unknown Pipeliner event "Won" for Account')
    expect(e.line).to.contain('Valid for Account: Account.*, Account.Create, Account.Update, Account.Delete, Account.DocumentLinked, Account.OwnerChanged.')
    expect(e.line).to.contain('Won exists for Opportunity.Won')
    expect(usage(() => parsePipelinerEvent('Email.OwnerChanged')).line).to.contain('Valid for Email: Email.*, Email.Create, Email.Update, Email.Delete, Email.DocumentLinked.')
    expect(usage(() => parsePipelinerEvent('Product.DocumentLinked')).line).to.contain('Valid for Product: Product.*, Product.Create, Product.Update, Product.Delete.')
    usage(() => parsePipelinerEvent('Contact.Comment'))
    usage(() => parsePipelinerEvent('Account.Move'))
    usage(() => parsePipelinerEvent('Lead.Won'))
  })

  it('suggests the closest spelling (did you mean)', () => {
    expect(usage(() => parsePipelinerEvent('Acount.Create')).line).to.contain('Did you mean "Account.Create"?')
    expect(usage(() => parsePipelinerEvent('Opportunity.Updte')).line).to.contain('Did you mean "Opportunity.Update"?')
    expect(usage(() => parsePipelinerEvent('Oportunity.*')).line).to.contain('Did you mean "Opportunity.*"?')
    expect(usage(() => parsePipelinerEvent('Lead.BackToLaed')).line).to.contain('Did you mean "Lead.BackToLead"?')
    expect(usage(() => parsePipelinerEvent('deal.create')).line).to.contain('Did you mean "Opportunity.Create"?')
    expect(usage(() => parsePipelinerEvent('Opportunity')).line).to.contain('Did you mean "Opportunity.*"?')
    expect(usage(() => parsePipelinerEvent('*.*')).line).to.contain('Did you mean "*"?')
    expect(didYouMean('zzzzzz', PIPELINER_ENTITIES)).to.equal(undefined)
  })

  it('lists the valid entities for an unknown one, and rejects malformed events', () => {
    const e = usage(() => parsePipelinerEvent('Invoice.Create'))
    expect(e.line).to.contain('Unknown Pipeliner entity "Invoice"')
    expect(e.line).to.contain('Valid entities: Account, Contact, Opportunity, Lead, Task, Email, Appointment, Product, OpptyProductRelation, CustomEntity.')
    expect(e.line).not.to.contain('Did you mean')
    expect(usage(() => parsePipelinerEvent('*.Create')).line).to.contain('Account.Create, Contact.Create')
    usage(() => parsePipelinerEvent(''))
    usage(() => parsePipelinerEvent('Account.Create.Now'))
    usage(() => parsePipelinerEvent('Account Create'))
    // one line, whatever the input
    expect(usage(() => parsePipelinerEvent('Foo.Bar')).line).not.to.contain('\n')
  })

  it('parses several --event values (comma lists too), deduplicated in order, with redundancy warnings', () => {
    expect(parsePipelinerEvents(['account.create', 'Contact.*,Opportunity.Won', 'ACCOUNT.CREATE'])).to.deep.equal({
      events: ['Account.Create', 'Contact.*', 'Opportunity.Won'], warnings: [],
    })
    const r = parsePipelinerEvents(['Opportunity.*', 'Opportunity.Won', '*'])
    expect(r.events).to.deep.equal(['Opportunity.*', 'Opportunity.Won', '*'])
    expect(r.warnings).to.deep.equal(['Opportunity.* is already covered by *.', 'Opportunity.Won is already covered by Opportunity.*.'])
    expect(usage(() => parsePipelinerEvents([''])).code).to.equal('missing_value')
    usage(() => parsePipelinerEvents(['Account.Create', 'Nope.Create']))
  })

  it('compares event sets and patterns', () => {
    expect(sameEventSet(['Account.Create', 'Contact.*'], ['contact.*', 'Account.Create', 'Account.Create'])).to.equal(true)
    expect(sameEventSet(['Account.Create'], ['Account.Create', 'Account.Update'])).to.equal(false)
    expect(sameEventSet(['Account.*'], ['*'])).to.equal(false)
    expect(covers('*', 'Lead.Lost')).to.equal(true)
    expect(covers('Lead.*', 'Lead.Lost')).to.equal(true)
    expect(covers('Lead.Lost', 'Lead.*')).to.equal(false)
    expect(covers('Lead.*', 'Opportunity.Lost')).to.equal(false)
    expect(eventsOverlap('Lead.Lost', 'Lead.*')).to.equal(true)
    expect(eventsOverlap('Lead.Lost', 'Lead.Won')).to.equal(false)
    expect(entitiesOf(['Account.Create', 'Account.*', 'Task.Comment'])).to.deep.equal(['Account', 'Task'])
    expect(entitiesOf(['*'])).to.deep.equal(PIPELINER_ENTITIES)
    expect(normalizeEventLoose('account.create')).to.equal('Account.Create')
    expect(normalizeEventLoose('Future.Event')).to.equal('Future.Event')
  })
})
