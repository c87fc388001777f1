import {expect} from 'chai'

import {PdhooksError} from '../../src/lib/core/errors.js'

/** Runs `fn`, expects it to throw a usage error (PdhooksError, exit 2), and returns it. */
export function usage(fn: () => unknown): PdhooksError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    expect((error as PdhooksError).exit).to.equal(2)
    return error as PdhooksError
  }

  throw new Error('expected a usage error')
}

/** Awaits `p`, expects it to reject with a usage error (PdhooksError, exit 2), and returns it. */
export async function usageAsync(p: Promise<unknown>): Promise<PdhooksError> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    expect((error as PdhooksError).exit).to.equal(2)
    return error as PdhooksError
  }

  throw new Error('expected a usage error')
}

/** Awaits `p`, expects it to reject with an instance of `type` (PdhooksError by default), and returns the error. */
export async function rejection<E extends Error = PdhooksError>(p: Promise<unknown>, type: abstract new (...args: any[]) => E = PdhooksError as never): Promise<E> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(type)
    return error as E
  }

  throw new Error(`expected a ${type.name}`)
}
