import { MessageBatcher } from './message-batcher';

/** An async iterator fed by hand. */
function feed<T>() {
  const items: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let ended = false;
  return {
    push(...values: T[]) {
      for (const v of values) {
        const w = waiting.shift();
        if (w) w({ value: v, done: false });
        else items.push(v);
      }
    },
    end() {
      ended = true;
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
    },
    iterator: {
      next(): Promise<IteratorResult<T>> {
        if (items.length) return Promise.resolve({ value: items.shift() as T, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
    } as AsyncIterator<T>,
  };
}

describe('MessageBatcher', () => {
  it('takes everything already there, up to maxSize', async () => {
    const f = feed<number>();
    f.push(1, 2, 3, 4, 5);
    const batcher = new MessageBatcher(f.iterator, { maxSize: 3, lingerMs: 20, maxWaitMs: 100 });
    expect(await batcher.next()).toEqual([1, 2, 3]);
    expect(await batcher.next()).toEqual([4, 5]);
  });

  it('waits for the first item, then closes the batch after lingerMs of quiet', async () => {
    const f = feed<string>();
    const batcher = new MessageBatcher(f.iterator, { maxSize: 100, lingerMs: 30, maxWaitMs: 1000 });
    const batch = batcher.next();
    setTimeout(() => f.push('a'), 20);
    setTimeout(() => f.push('b'), 30);
    setTimeout(() => f.push('late'), 200);
    expect(await batch).toEqual(['a', 'b']);
    // The item that arrives after the batch closed is not lost: it opens the next one.
    expect(await batcher.next()).toEqual(['late']);
  });

  it('closes a batch at maxWaitMs even while items keep coming', async () => {
    const f = feed<number>();
    const batcher = new MessageBatcher(f.iterator, { maxSize: 1000, lingerMs: 50, maxWaitMs: 60 });
    let n = 0;
    const timer = setInterval(() => f.push(n++), 5);
    const started = Date.now();
    const batch = await batcher.next();
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(200);
    expect(batch.length).toBeGreaterThan(1);
    expect(batch).toEqual([...batch].sort((a, b) => a - b));
  });

  it('returns an empty batch once the source has ended, and hands back a pending item', async () => {
    const f = feed<number>();
    const batcher = new MessageBatcher(f.iterator, { maxSize: 10, lingerMs: 5, maxWaitMs: 10 });
    f.push(1);
    expect(await batcher.next()).toEqual([1]);
    // The batch closed while an item was still being asked for: that item is handed back.
    f.push(2);
    expect(await batcher.leftover()).toBe(2);
    expect(await batcher.leftover()).toBeUndefined();
    f.push(3);
    f.end();
    expect(await batcher.next()).toEqual([3]);
    expect(await batcher.next()).toEqual([]);
  });
});
