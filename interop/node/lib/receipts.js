// A receipt proves delivery only if it matches what this office sent to the office that signed it
// (proto-schemas/README.md, after step 13: `receipt-mismatch`). Its signature proves who wrote it,
// not that it is true: the digest must be the SHA-256 of the exact envelope bytes we published.
// This is the receiver's state check (what *this* office sent), so it lives with the client; the
// stateless steps 1-13 are lib/verify.js's.

import { instant, SKEW_NS } from "./verify.js";

/**
 * Why a verified receipt (header + body) does not count, or null when it does.
 * `sent`: Map message_id -> {recipients, digest, created_at (RFC 3339)} of what this office sent.
 * `now`: RFC 3339 text.
 */
export function receiptProblem(header, body, sent, now) {
  const mine = sent.get(body.for_message_id);
  if (mine === undefined) {
    return `${body.receipt_type} receipt for ${body.for_message_id}, which this office did not send`;
  }
  if (!mine.recipients.includes(header.sender)) {
    return `${header.sender} is not a recipient of ${body.for_message_id}`;
  }
  if (body.digest !== mine.digest) {
    return `digest ${body.digest.slice(0, 16)}… is not that of the envelope sent (${mine.digest.slice(0, 16)}…)`;
  }
  const at = instant(body.at);
  if (at < instant(mine.created_at) - SKEW_NS) {
    return `receipt time ${body.at} is before ${body.for_message_id} was sent (${mine.created_at})`;
  }
  if (at - instant(now) > SKEW_NS) {
    return `receipt time ${body.at} is in the future`;
  }
  return null;
}
