import { DEFAULT_STEP_WEIGHT, handOn, initialFindings, planOf, progressShares, runPlanOf } from './run-plan';

describe('run plan', () => {
  it('sanitises the plan', () => {
    expect(planOf(['reporting', 'data', 'triage', 'data', 'Bad Name', 7])).toEqual([['data'], ['reporting']]);
    expect(planOf(undefined)).toEqual([['reporting']]);
    // Parallel stages: each agent once, reporting alone and last, empty stages dropped, at most 5 steps before reporting.
    expect(planOf([['knowledge', 'data', 'knowledge'], ['reporting', 'data'], [], 'x', [['nested']], { a: 1 }])).toEqual([
      ['knowledge', 'data'],
      ['x'],
      ['reporting'],
    ]);
    expect(
      planOf([
        ['a', 'b', 'c'],
        ['d', 'e', 'f', 'g'],
      ]).flat(),
    ).toEqual(['a', 'b', 'c', 'd', 'e', 'reporting']);
  });

  it('reads triage output that is not what it should be', () => {
    expect(runPlanOf({ intent: 7, plan: 'knowledge', interactive: ['data', 3] })).toEqual({
      intent: 'question',
      stages: [['reporting']],
      interactive: new Set(['data']),
    });
  });

  it('splits the progress by the agents’ weights', () => {
    expect(progressShares([['knowledge'], ['reporting']], 0.15, 0.97)).toEqual([
      [0.15, 0.5],
      [0.5, 0.97],
    ]);
    // A parallel stage weighs as its heaviest step.
    expect(progressShares([['knowledge', 'data'], ['reporting']], 0.15, 0.97)).toEqual([
      [0.15, 0.5],
      [0.5, 0.97],
    ]);
    // An agent without a weight (one registered only on the workers) weighs the default, as knowledge does.
    expect(DEFAULT_STEP_WEIGHT).toBe(0.35);
    expect(progressShares([['orders'], ['reporting']], 0.15, 0.97)).toEqual(progressShares([['knowledge'], ['reporting']], 0.15, 0.97));
  });

  it('hands on the knowledge passages as passages and any other output under its agent, once', () => {
    const findings = initialFindings('q');
    handOn(findings, 'knowledge', { passages: [{ id: 'p' }] });
    handOn(findings, 'data', { title: 't' });
    handOn(findings, 'data', { title: 'again' });
    handOn(findings, 'question', { overwrite: true });
    expect(findings).toEqual({ question: 'q', intent: 'question', passages: [{ id: 'p' }], data: { title: 't' } });
    handOn(findings, 'knowledge', { passages: 'not a list' });
    expect(findings.passages).toEqual([]);
  });
});
