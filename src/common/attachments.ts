/**
 * Attachments (SPEC 5.1, capability `binaryAttachments`): byte strings a frame carries raw after
 * its JSON text, each referred to from the JSON by its index as `{"$attachment": i}`. This file
 * binds a received frame's attachments to the tags that refer to them; the value codec then reads
 * each tag as its bytes, and writes bytes as tags when given a list to put them in.
 */

/** The tag that refers to an attachment. */
export const ATTACHMENT_TAG = '$attachment';

/** Why a frame's attachments and its JSON do not match; the message names what is wrong. */
export class AttachmentError extends Error {
  override name = 'AttachmentError';
}

/** The one text for an index with no attachment: `at` names where the tag was, when known. */
export function attachmentOutOfRange(index: unknown, count: number, at = ''): string {
  return `${ATTACHMENT_TAG} ${JSON.stringify(index)}${at} is out of range: the frame carries ${count} attachment${count === 1 ? '' : 's'}`;
}

/** Deeper than the value codec reads (it refuses such a value anyway): not searched. */
const MAX_DEPTH = 600;

/**
 * Binds a parsed message's `{"$attachment": i}` tags to the frame's attachments, in place: each
 * tag's body becomes its Buffer, which the value codec reads as the bytes. Every attachment must
 * be referred to exactly once.
 * @throws AttachmentError naming the index out of range, the attachment referred to twice or never.
 */
export function resolveAttachments(message: unknown, attachments: readonly Buffer[]): void {
  const used = new Uint8Array(attachments.length);
  bind(message, attachments, used, 0);
  const unused = used.indexOf(0);
  if (unused >= 0) throw new AttachmentError(`attachment ${unused} is not referred to: every attachment of a frame must be a value of its message`);
}

function bind(value: unknown, attachments: readonly Buffer[], used: Uint8Array, depth: number): void {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) bind(item, attachments, used, depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  let count = 0;
  for (const _key in record) {
    if (++count > 1) break;
  }
  if (count === 1 && ATTACHMENT_TAG in record) {
    const index = record[ATTACHMENT_TAG];
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw new AttachmentError(`${ATTACHMENT_TAG} must be the index of an attachment, a whole number from 0, not ${JSON.stringify(index)}`);
    if (index >= attachments.length) throw new AttachmentError(attachmentOutOfRange(index, attachments.length));
    if (used[index]) throw new AttachmentError(`attachment ${index} is referred to twice: each attachment is one value`);
    used[index] = 1;
    record[ATTACHMENT_TAG] = attachments[index];
    return;
  }
  for (const key in record) bind(record[key], attachments, used, depth + 1);
}
