export interface Passable {
  pass: boolean;
}

export interface StepRecord<R> {
  rate: number;
  pass: boolean;
  /** Every attempt at this rate (more than one when a failure was confirmed). */
  attempts: R[];
}

export interface SearchOutcome<R> {
  /** The highest passing step, if any passed. */
  best?: { rate: number; result: R };
  steps: StepRecord<R>[];
}

/**
 * Steps the rate up until a step fails. A failed step is tried `confirmations` more times
 * and passes if most of its attempts pass, so one noisy moment does not end the search.
 */
export async function stepUp<R extends Passable>(
  rates: readonly number[],
  measure: (rate: number) => Promise<R>,
  confirmations: number,
  log: (line: string) => void,
  describe: (r: R) => string,
): Promise<SearchOutcome<R>> {
  const steps: StepRecord<R>[] = [];
  let best: SearchOutcome<R>['best'];
  for (const rate of rates) {
    const attempts: R[] = [];
    let passed = 0;
    const needed = Math.floor((confirmations + 1) / 2) + 1;
    for (let i = 0; i <= confirmations; i++) {
      const r = await measure(rate);
      attempts.push(r);
      if (r.pass) passed++;
      log(`  ${rate}/s ${r.pass ? 'pass' : 'FAIL'} ${describe(r)}`);
      if (i === 0 && r.pass) break;
      if (passed >= needed || i + 1 - passed > confirmations + 1 - needed) break;
    }
    const pass = attempts.length === 1 ? attempts[0].pass : passed >= needed;
    steps.push({ rate, pass, attempts });
    if (!pass) break;
    best = { rate, result: attempts.find((a) => a.pass)! };
  }
  return { best, steps };
}
