/**
 * The queries resync runs against Bitrix, besides capture's snapshot reads.
 * Plain indexed reads (invariant 4): both walk IXS_DATE_UPDATE (DATE_UPDATE,
 * and InnoDB's implicit ID) over a half-open range [since, until).
 */

/** How many orders the range holds, for the progress bar. */
export const SQL_RANGE_COUNT =
  "SELECT COUNT(*) AS n FROM b_sale_order WHERE DATE_UPDATE >= ? AND DATE_UPDATE < ?";

/**
 * One keyset page of the range, strictly after (?, ?) (DATE_UPDATE, ID), below `until`.
 * Parameters: after.dateUpdate, after.dateUpdate, after.orderId, until, limit.
 */
export const SQL_RANGE_PAGE = `
  SELECT ID, VERSION, DATE_UPDATE, RUNNING
  FROM b_sale_order
  WHERE DATE_UPDATE >= ? AND (DATE_UPDATE > ? OR ID > ?) AND DATE_UPDATE < ?
  ORDER BY DATE_UPDATE, ID
  LIMIT ?`;

/** An upper bound above every DATETIME Bitrix can hold: "no --until". */
export const END_OF_TIME = "9999-12-31 23:59:59";
