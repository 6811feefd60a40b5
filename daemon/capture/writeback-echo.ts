import { isDeepStrictEqual } from "node:util";

/**
 * The b_sale_order columns a status write-back sets (plan-status-write.ts,
 * BITRIX.md §3: STATUS_ID, DATE_STATUS, EMP_STATUS_ID, UPDATED_1C, VERSION+1,
 * DATE_UPDATE). A snapshot that differs from the last one queued for the CRM
 * only in these carries nothing the CRM does not already know.
 */
export const STATUS_CHANGE_COLUMNS = [
  "STATUS_ID",
  "DATE_STATUS",
  "EMP_STATUS_ID",
  "UPDATED_1C",
  "VERSION",
  "DATE_UPDATE",
] as const;

/**
 * True when two CRM payloads (JSON of `data`) are equal once the status
 * change columns are left out. Used to tell a write-back's own row (an echo,
 * not sent back) from a row that also holds a Bitrix save: Bitrix saves
 * without a transaction and the write-back only locks the order row, so a
 * save that committed (or finished its children) just before a write-back
 * ends up in the row the write-back produced, under the write-back's
 * (VERSION, DATE_UPDATE). That save must still reach the CRM.
 */
export function sameBesidesStatusChange(previousPayload: string, payload: string): boolean {
  const strip = (json: string): unknown => {
    const data = JSON.parse(json) as Record<string, unknown>;
    for (const column of STATUS_CHANGE_COLUMNS) delete data[column];
    return data;
  };
  return isDeepStrictEqual(strip(previousPayload), strip(payload));
}
