// The behaviour every `Broker` must show: at-least-once delivery with SQS's model (visibility,
// receive counts, dead-lettering, delays, de-duplication, ordered groups, long polls), and nothing
// published lost across a restart. Time the broker waits on comes from the fake clock.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../core/errors.js';
import type { Broker } from '../../ports/broker.js';
import { FakeClock } from './fake-clock.js';

/** What a driver is given: a directory of its own and the clock. Opening twice on the same ones is a restart. */
export interface BrokerSetup {
  readonly dir: string;
  readonly clock: FakeClock;
}

export function describeBrokerConformance(name: string, open: (setup: BrokerSetup) => Promise<Broker>): void {
  describe(`Broker conformance: ${name}`, () => {
    let setup: BrokerSetup;
    let broker: Broker;
    const body = (i: number) => `message ${i}`;

    beforeEach(async () => {
      setup = { dir: await mkdtemp(path.join(os.tmpdir(), 'nuvola-broker-')), clock: new FakeClock() };
      broker = await open(setup);
      await broker.ensureQueue('q');
    });

    afterEach(async () => {
      await broker.close();
      await rm(setup.dir, { recursive: true, force: true });
    });

    const pullAll = (queue = 'q', visibilityMs = 30_000) => broker.pull(queue, { max: 100, visibilityMs });

    it('delivers what was published, with its attributes, and forgets it once acknowledged', async () => {
      const [published] = await broker.publish('q', [{ body: 'hello', attributes: { kind: 'greeting' } }]);
      expect(published).toMatchObject({ id: expect.any(String), duplicate: false });
      expect(await broker.counts('q')).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
      const [d] = await pullAll();
      expect(d).toMatchObject({ id: published!.id, body: 'hello', attributes: { kind: 'greeting' }, receiveCount: 1, sentAt: setup.clock.now() });
      expect(await broker.counts('q')).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
      expect(await broker.ack('q', [d!.receipt])).toEqual([true]);
      expect(await broker.counts('q')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      setup.clock.advance(60_000);
      expect(await pullAll()).toEqual([]);
    });

    it('hides a delivery for its visibility timeout, then delivers it again, counting receives', async () => {
      await broker.publish('q', [{ body: 'x' }]);
      const [first] = await broker.pull('q', { max: 1, visibilityMs: 1_000 });
      setup.clock.advance(999);
      expect(await pullAll()).toEqual([]);
      setup.clock.advance(1);
      const [second] = await pullAll();
      expect(second).toMatchObject({ id: first!.id, receiveCount: 2, firstReceivedAt: first!.firstReceivedAt });
      // The first delivery's receipt no longer names a delivery in flight.
      expect(await broker.ack('q', [first!.receipt, 'nonsense'])).toEqual([false, false]);
      expect(await broker.ack('q', [second!.receipt])).toEqual([true]);
    });

    it('releases a delivery to be visible again now or after a delay, or holds it longer, until pulled again', async () => {
      await broker.publish('q', [{ body: 'a' }, { body: 'b' }]);
      const [a, b] = await broker.pull('q', { max: 10, visibilityMs: 1_000 });
      expect(await broker.release('q', a!.receipt, 0)).toBe(true);
      // Held for 5 s instead of 1 s: still in flight, its receipt still good.
      expect(await broker.release('q', b!.receipt, 5_000)).toBe(true);
      const [a2] = await pullAll();
      expect(a2).toMatchObject({ body: 'a', receiveCount: 2 });
      // Pulled again: the first delivery's receipt is stale.
      expect(await broker.release('q', a!.receipt, 0)).toBe(false);
      expect(await broker.counts('q')).toEqual({ visible: 0, inFlight: 2, delayed: 0 });
      setup.clock.advance(4_999);
      expect(await broker.ack('q', [b!.receipt])).toEqual([true]);
      expect(await broker.release('q', 'nonsense', 0)).toBe(false);
    });

    it('shows messages without delivering them: no receive counted, nothing hidden', async () => {
      await broker.publish('q', [{ body: 'first', attributes: { k: 'v' } }, { body: 'second', delayMs: 5_000 }]);
      const [pulled] = await broker.pull('q', { max: 1, visibilityMs: 30_000 });
      const peeked = await broker.peek('q', 10);
      expect(peeked.map((m) => [m.body, m.receiveCount])).toEqual([
        ['first', 1],
        ['second', 0],
      ]);
      expect(peeked[0]).toMatchObject({ id: pulled!.id, attributes: { k: 'v' }, sentAt: setup.clock.now() });
      expect(await broker.peek('q', 1)).toHaveLength(1);
      expect(await broker.counts('q')).toEqual({ visible: 0, inFlight: 1, delayed: 1 });
      expect(await broker.ack('q', [pulled!.receipt])).toEqual([true]);
      const err = await broker.peek('nope', 1).catch((e: unknown) => e);
      expect(isPlatformError(err, 'QUEUE_NOT_FOUND')).toBe(true);
    });

    it('holds a delayed message until its delay has passed', async () => {
      await broker.publish('q', [{ body: 'later', delayMs: 10_000 }, { body: 'now' }]);
      expect(await broker.counts('q')).toEqual({ visible: 1, inFlight: 0, delayed: 1 });
      expect((await pullAll()).map((d) => d.body)).toEqual(['now']);
      setup.clock.advance(10_000);
      expect((await pullAll()).map((d) => d.body)).toEqual(['later']);
    });

    it('stores a message once per de-duplication id within the window', async () => {
      const [a] = await broker.publish('q', [{ body: 'one', dedupId: 'd1' }]);
      const [b, c] = await broker.publish('q', [{ body: 'two', dedupId: 'd1' }, { body: 'three', dedupId: 'd2' }]);
      expect(b).toEqual({ ...a, duplicate: true });
      expect(c!.duplicate).toBe(false);
      expect((await pullAll()).map((d) => d.body)).toEqual(['one', 'three']);
      setup.clock.advance(5 * 60_000);
      const [d] = await broker.publish('q', [{ body: 'four', dedupId: 'd1' }]);
      expect(d!.duplicate).toBe(false);
    });

    it('moves a message received its maximum number of times to the dead-letter queue', async () => {
      await broker.ensureQueue('dlq');
      await broker.ensureQueue('work', { maxReceives: 2, deadLetterQueue: 'dlq' });
      const [p] = await broker.publish('work', [{ body: 'poison', attributes: { a: '1' } }]);
      for (let i = 1; i <= 2; i++) {
        expect((await broker.pull('work', { max: 10, visibilityMs: 1_000 })).map((d) => d.receiveCount)).toEqual([i]);
        setup.clock.advance(1_000);
      }
      expect(await broker.pull('work', { max: 10, visibilityMs: 1_000 })).toEqual([]);
      const [dead] = await pullAll('dlq');
      expect(dead).toMatchObject({ id: p!.id, body: 'poison', attributes: { a: '1' }, receiveCount: 1 });
    });

    it('refuses a dead-letter queue that does not exist, and unknown queues', async () => {
      const err = await broker.ensureQueue('w', { maxReceives: 1, deadLetterQueue: 'nope' }).catch((e: unknown) => e);
      expect(isPlatformError(err, 'QUEUE_NOT_FOUND')).toBe(true);
      expect(isPlatformError(await broker.publish('nope', [{ body: 'x' }]).catch((e: unknown) => e), 'QUEUE_NOT_FOUND')).toBe(true);
      expect(isPlatformError(await pullAll('nope').catch((e: unknown) => e), 'QUEUE_NOT_FOUND')).toBe(true);
    });

    it("delivers an ordered queue's groups in order, none of a group while one of it is in flight", async () => {
      await broker.ensureQueue('fifo', { ordered: true });
      await broker.publish('fifo', [
        { body: 'a1', groupId: 'a' },
        { body: 'b1', groupId: 'b' },
        { body: 'a2', groupId: 'a' },
        { body: 'a3', groupId: 'a' },
      ]);
      const [a1] = await broker.pull('fifo', { max: 1, visibilityMs: 1_000 });
      expect(a1!.body).toBe('a1');
      // Group a is held by a1; b is free.
      const [b1] = await broker.pull('fifo', { max: 10, visibilityMs: 1_000 });
      expect(b1!.body).toBe('b1');
      expect(await broker.pull('fifo', { max: 10, visibilityMs: 1_000 })).toEqual([]);
      await broker.ack('fifo', [b1!.receipt]);
      await broker.ack('fifo', [a1!.receipt]);
      const next = await broker.pull('fifo', { max: 10, visibilityMs: 1_000 });
      expect(next.map((d) => d.body)).toEqual(['a2', 'a3']);
      // A released message keeps its place: a2 comes again before a3.
      await broker.release('fifo', next[0]!.receipt, 0);
      await broker.release('fifo', next[1]!.receipt, 0);
      expect((await broker.pull('fifo', { max: 1, visibilityMs: 1_000 })).map((d) => d.body)).toEqual(['a2']);
    });

    it('answers a long poll when a message arrives, when one becomes visible, or empty at its end', async () => {
      const waiting = broker.pull('q', { max: 10, visibilityMs: 1_000, waitMs: 20_000 });
      await broker.publish('q', [{ body: 'arrived' }]);
      const arrived = await waiting;
      expect(arrived.map((d) => d.body)).toEqual(['arrived']);
      await broker.ack('q', [arrived[0]!.receipt]);

      await broker.publish('q', [{ body: 'delayed', delayMs: 5_000 }]);
      const delayed = broker.pull('q', { max: 10, visibilityMs: 1_000, waitMs: 20_000 });
      await new Promise((r) => setTimeout(r, 10));
      setup.clock.advance(5_000);
      const got = await delayed;
      expect(got.map((d) => d.body)).toEqual(['delayed']);
      await broker.ack('q', [got[0]!.receipt]);

      const empty = broker.pull('q', { max: 10, visibilityMs: 1_000, waitMs: 20_000 });
      await new Promise((r) => setTimeout(r, 10));
      setup.clock.advance(20_000);
      expect(await empty).toEqual([]);

      const controller = new AbortController();
      const aborted = broker.pull('q', { max: 10, visibilityMs: 1_000, waitMs: 20_000, signal: controller.signal });
      controller.abort();
      expect(await aborted).toEqual([]);
    });

    it('resolves many concurrent publishes in order, each with a larger sequence', async () => {
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => broker.publish('q', [{ body: body(i) }])));
      const sequences = results.map((r) => r[0]!.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(500);
      expect((await broker.counts('q')).visible).toBe(500);
    });

    it('purges a queue, and deletes one with its messages', async () => {
      await broker.publish('q', [{ body: 'a' }, { body: 'b' }]);
      await broker.purge('q');
      expect(await broker.counts('q')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      await broker.publish('q', [{ body: 'c' }]);
      await broker.deleteQueue('q');
      expect(isPlatformError(await broker.counts('q').catch((e: unknown) => e), 'QUEUE_NOT_FOUND')).toBe(true);
    });

    it('loses nothing published across a restart: acknowledged ones stay gone, in-flight ones come back', async () => {
      await broker.ensureQueue('dlq');
      await broker.ensureQueue('work', { maxReceives: 5, deadLetterQueue: 'dlq' });
      const published = (await broker.publish('work', Array.from({ length: 100 }, (_, i) => ({ body: body(i) })))).map((p) => p.id);
      const pulled = await broker.pull('work', { max: 10, visibilityMs: 1_000 });
      await broker.ack('work', pulled.slice(0, 5).map((d) => d.receipt));
      // Published while the broker closes: its publish resolves, so it must be there after.
      const last = broker.publish('work', [{ body: 'last' }]);
      await broker.close();
      const [lastId] = (await last).map((p) => p.id);
      broker = await open(setup);
      setup.clock.advance(1_000);
      const delivered = await broker.pull('work', { max: 1_000, visibilityMs: 1_000 });
      const ids = new Set(delivered.map((d) => d.id));
      expect(ids.size).toBe(96);
      for (const id of [...published.filter((id) => !pulled.slice(0, 5).some((d) => d.id === id)), lastId]) expect(ids.has(id!)).toBe(true);
      // The queue's options came back too: five receives, then the dead-letter queue.
      const again = delivered.find((d) => d.id === pulled[9]!.id);
      expect(again?.receiveCount).toBe(2);
    });

    it('refuses work once closed', async () => {
      await broker.close();
      expect(isPlatformError(await broker.publish('q', [{ body: 'x' }]).catch((e: unknown) => e), 'SHUTTING_DOWN')).toBe(true);
      expect(isPlatformError(await pullAll().catch((e: unknown) => e), 'SHUTTING_DOWN')).toBe(true);
      broker = await open(setup); // for afterEach
    });
  });
}
