/**
 * `delivery/ack` and `delivery/nack` (SPEC 20.3): a JSON-RPC session's requests settling an
 * acknowledged get's delivery through the object service.
 */

import type { DeliveryParams } from '../../common/protocol';
import type { ObjectService } from '../calls/objectService';
import type { SessionCore } from '../calls/sessionCore';
import { expectFields } from './paramChecks';

/** Settles a delivery the caller holds; `touch` hears of its queue. Answers null (once a store has settled it). */
export function settleDelivery(service: ObjectService, core: SessionCore, params: DeliveryParams, how: 'ack' | 'nack', touch: (objectId: string) => void): null | Promise<null> {
  expectFields(params, { id: 'string', deliveryId: 'string' });
  const settled = service.settleDelivery(core, params.id, params.deliveryId, how);
  touch(params.id);
  return settled instanceof Promise ? settled.then(() => null) : null;
}
