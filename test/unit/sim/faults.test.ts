import { describe, expect, it } from 'vitest';
import { SimFault, simFaultExamples } from '../../../shared/api/sim.js';
import { acceptedFaults, effectsOf, faultKinds, withFault } from '../../../sim/faults.js';

describe('fault catalogue', () => {
  it('has an entry for every kind of the SimFault schema, and no other', () => {
    const schemaKinds = SimFault.anyOf.map((variant) => variant.properties.kind.const);
    expect([...faultKinds].sort()).toEqual([...schemaKinds].sort());
    expect(simFaultExamples.map((f) => f.kind).sort()).toEqual([...faultKinds].sort());
  });

  it('a healthy device listens and answers', () => {
    expect(effectsOf([])).toEqual({ listening: true, answering: true });
  });

  it('offline stops listening; hang stops answering; both together do both', () => {
    expect(effectsOf([{ kind: 'offline' }])).toEqual({ listening: false, answering: true });
    expect(effectsOf([{ kind: 'hang' }])).toEqual({ listening: true, answering: false });
    expect(effectsOf([{ kind: 'hang' }, { kind: 'offline' }])).toEqual({
      listening: false,
      answering: false,
    });
  });

  it('a kind is active once', () => {
    const faults = withFault(withFault([{ kind: 'hang' }], { kind: 'offline' }), { kind: 'hang' });
    expect(faults).toEqual([{ kind: 'offline' }, { kind: 'hang' }]);
  });

  it('describes what is accepted, with an example each', () => {
    expect(acceptedFaults()).toEqual([
      expect.stringMatching(/^\{"kind":"offline"\}: /),
      expect.stringMatching(/^\{"kind":"hang"\}: /),
    ]);
  });
});
