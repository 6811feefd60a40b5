/**
 * What the demo's "CRM manager" does next: moves an order the CRM has received
 * one step along the shop's usual flow, using the CRM's status names (which
 * write-back maps to Bitrix codes: confirmed AP, assembled CO, in_transit DE,
 * completed F). Pure decisions over values.
 */

export const CRM_MANAGER_FLOW = ["confirmed", "assembled", "in_transit", "completed"] as const;
export type CrmManagerStatus = (typeof CRM_MANAGER_FLOW)[number];

/**
 * The order to move and its next status: among the orders the CRM has, the one
 * furthest along that is not completed (ties: the oldest), so one order walks
 * the whole flow in the demo's minute. undefined when there is nothing to move.
 */
export function nextCrmMove(
  crmOrderIds: readonly number[],
  steps: ReadonlyMap<number, number>,
): { orderId: number; status: CrmManagerStatus } | undefined {
  let best: { orderId: number; step: number } | undefined;
  for (const orderId of [...crmOrderIds].sort((a, b) => a - b)) {
    const step = steps.get(orderId) ?? 0;
    if (step >= CRM_MANAGER_FLOW.length) continue;
    if (best === undefined || step > best.step) best = { orderId, step };
  }
  if (best === undefined) return undefined;
  return { orderId: best.orderId, status: CRM_MANAGER_FLOW[best.step] as CrmManagerStatus };
}
