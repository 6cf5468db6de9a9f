import assert from 'node:assert/strict';
import { Device, WriteAccessError } from '../../../core/index.js';
import { rejectsWith } from '../../support/async.js';

class Soft extends Device {
  readonly state = this.stateParameter<'idle' | 'busy'>({ initial: 'idle' });
}

class Hard extends Device {
  hw: 'idle' | 'busy' = 'busy';
  readonly state = this.stateParameter<'idle' | 'busy'>({ initial: 'idle', read: () => this.hw });
}

describe('core/state', () => {
  it('starts in the initial state and cannot be assigned by users', async () => {
    const d = await Soft.create({ name: 'soft' });
    assert.equal(await d.getState(), 'idle');
    assert.ok(d.state.software);
    await rejectsWith(d.state.set('busy'), WriteAccessError, /soft\.state cannot be set directly/);
    assert.equal(await d.getState(), 'idle');
    assert.equal(d.state.kind, 'state');
  });

  it('reads a hardware state, but an error state set by software wins until reset()', async () => {
    const d = await Hard.create({ name: 'hard' });
    assert.ok(!d.state.software);
    assert.equal(await d.getState(), 'busy');
    const failure = new Error('boom');
    d.state.enter('error', failure);
    assert.equal(await d.getState(), 'error');
    assert.equal(d.state.error, failure);
    await d.reset();
    assert.equal(await d.getState(), 'busy');
    assert.equal(d.state.error, undefined);
  });

  it('a device without a state reports unknown', async () => {
    class NoState extends Device {}
    const d = await NoState.create();
    assert.equal(await d.getState(), 'unknown');
    assert.equal(d.stateParam, undefined);
  });
});
