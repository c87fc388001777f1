/**
 * Every sample `trigger` can send (`trigger --list`): each Pipedrive event of both versions (merges included), each
 * Cloud Elements notification, each Pipeliner event.
 */
import {V1_ACTIONS, V2_ACTIONS, V2_OBJECTS} from '../pipedrive/events.js'
import {ALL_PIPELINER_EVENTS} from '../pipeliner/events.js'
import {
  MERGEABLE_OBJECTS, type PipedriveVersion, sampleObjects, sampleSource,
} from './samples.js'

export interface CatalogEntry {
  /** What to pass to `trigger`. */
  event: string
  format: 'elements' | 'pipedrive' | 'pipeliner'
  /** Pipedrive webhook version (for elements: the vendor body's), null for Pipeliner. */
  version: null | PipedriveVersion
  /** How many deliveries one sample is (a merge is two). */
  deliveries: number
  /** Where the sample's shape comes from, and anything surprising. */
  note: string
}

const words = (version: PipedriveVersion): string[] => ((version === '2.0' ? V2_ACTIONS : V1_ACTIONS) as readonly string[]).filter(a => a !== '*' && a !== 'merged')

function pipedriveEntries(format: 'elements' | 'pipedrive', version: PipedriveVersion, objects: string[]): CatalogEntry[] {
  const out: CatalogEntry[] = []
  for (const object of objects) {
    const source = sampleSource(version, object) ?? ''
    const note = source.startsWith('guess') ? 'shape guessed (no documented example)' : (source.startsWith('documented') ? 'documented shape' : source)
    for (const action of words(version)) {
      const userDelete = version === '2.0' && object === 'user' && action === 'delete'
      out.push({
        deliveries: 1, event: `${action}.${object}`, format, note: userDelete ? 'sent as a change.user (deactivation), as documented' : note, version,
      })
    }

    if (MERGEABLE_OBJECTS.includes(object)) {
      out.push({
        deliveries: 2,
        event: `merged.${object}`,
        format,
        note: version === '2.0' ? 'delete (merged_to_id) + change (merged_from_id)' : 'merged + deleted',
        version,
      })
    }
  }

  return out
}

/** Every sample, Pipedrive v2 first (the default), then v1, Cloud Elements and Pipeliner. */
export function sampleCatalog(): CatalogEntry[] {
  const v2Only = sampleObjects('2.0').filter(o => !sampleObjects('1.0').includes(o) && (V2_OBJECTS as readonly string[]).includes(o))
  return [
    ...pipedriveEntries('pipedrive', '2.0', sampleObjects('2.0')),
    ...pipedriveEntries('pipedrive', '1.0', sampleObjects('1.0')),
    ...pipedriveEntries('elements', '1.0', sampleObjects('1.0')),
    ...pipedriveEntries('elements', '2.0', v2Only),
    ...ALL_PIPELINER_EVENTS.map(event => ({
      deliveries: 1, event, format: 'pipeliner' as const, note: 'shape guessed (no published example)', version: null,
    })),
  ]
}
