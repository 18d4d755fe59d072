import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../queues/index.js';
import { failedItems } from './event-sources.js';

const batch = ['m1', 'm2', 'm3'].map((messageId) => ({ messageId }) as ReceivedMessage);

describe("Lambda's reading of a ReportBatchItemFailures response", () => {
  it('takes the messages named, and none for an empty or absent list', () => {
    expect(failedItems('{"batchItemFailures":[{"itemIdentifier":"m2"}]}', batch)).toEqual(new Set(['m2']));
    for (const none of ['{"batchItemFailures":[]}', '{}', 'null', '{"batchItemFailures":null}']) expect(failedItems(none, batch)).toEqual(new Set());
  });
  it('counts the whole batch as failed when the response cannot be read as one', () => {
    for (const bad of ['{"batchItemFailures":[{"itemIdentifier":""}]}', '{"batchItemFailures":[{"itemIdentifier":"elsewhere"}]}', '{"batchItemFailures":"m1"}', '{"batchItemFailures":[{}]}', '[1]', 'not json']) {
      expect(failedItems(bad, batch)).toBe('all');
    }
  });
});
