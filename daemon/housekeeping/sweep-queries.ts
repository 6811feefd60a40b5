/**
 * The queries the sweeps run against Bitrix, in one place. Plain indexed
 * reads (invariant 4), each a short statement of its own, never a long
 * transaction: the recent window walks IXS_DATE_UPDATE (DATE_UPDATE, and
 * InnoDB's implicit ID) in keyset pages; the full sweep walks the primary
 * key in ID chunks. Snapshots are read with capture's batch reader.
 */

/** One page of (DATE_UPDATE, ID) after (?, ?) and up to DATE_UPDATE <= ?, in index order. */
export const SQL_SWEEP_WINDOW_PAGE = `
  SELECT ID, VERSION, DATE_UPDATE, RUNNING
  FROM b_sale_order
  WHERE DATE_UPDATE >= ? AND (DATE_UPDATE > ? OR ID > ?) AND DATE_UPDATE <= ?
  ORDER BY DATE_UPDATE, ID
  LIMIT ?`;

/** One chunk of orders by primary key, strictly after ID ?. */
export const SQL_ID_CHUNK = `
  SELECT ID, VERSION, DATE_UPDATE, RUNNING
  FROM b_sale_order
  WHERE ID > ?
  ORDER BY ID
  LIMIT ?`;
