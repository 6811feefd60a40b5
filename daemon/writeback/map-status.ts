/**
 * CRM status -> Bitrix STATUS_ID. The CRM's `orders.status` holds names
 * (`in_transit`) from several competing mappings and sometimes a raw Bitrix
 * code (`DE`). A name is looked up in the configured map (the shop's defaults
 * merged with [writeback.status_map]); otherwise a raw code is accepted only
 * when b_sale_status has it as an ORDER status (TYPE='O'; 'D' rows are
 * shipment statuses). Anything else is refused: never a fallback status (the
 * old reverse sync reset unknown statuses to "N").
 */

export interface OrderStatusInfo {
  id: string;
  /** b_sale_status.NOTIFY = 'Y': Bitrix e-mails the customer on this status. */
  notify: boolean;
}

export type StatusMapping =
  | { ok: true; statusId: string; via: "name" | "code" }
  | { ok: false; reason: string };

export function mapCrmStatus(
  crmStatus: string,
  statusMap: Readonly<Record<string, string>>,
  orderStatuses: ReadonlyMap<string, OrderStatusInfo>,
): StatusMapping {
  // hasOwn: a CRM status named "constructor" must not find Object.prototype's.
  if (Object.hasOwn(statusMap, crmStatus)) {
    const statusId = statusMap[crmStatus]!;
    if (orderStatuses.has(statusId)) return { ok: true, statusId, via: "name" };
    return {
      ok: false,
      reason: `"${crmStatus}" maps to ${statusId} ([writeback.status_map]), but b_sale_status has no order status (TYPE='O') ${statusId}`,
    };
  }
  if (orderStatuses.has(crmStatus)) return { ok: true, statusId: crmStatus, via: "code" };
  return {
    ok: false,
    reason: `"${crmStatus}" is neither a status name in [writeback.status_map] nor an order status (TYPE='O') in b_sale_status`,
  };
}
