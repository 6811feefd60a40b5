import { isDeepStrictEqual } from "node:util";
import { WRITEBACK_UPDATED_ORDER_COLUMNS } from "../ops/bitrix-schema-check.js";

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
    for (const column of WRITEBACK_UPDATED_ORDER_COLUMNS) delete data[column];
    return data;
  };
  return isDeepStrictEqual(strip(previousPayload), strip(payload));
}
