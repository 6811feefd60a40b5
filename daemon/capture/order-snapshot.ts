/**
 * What capture reads for one order. Every value is the string MySQL prints
 * (as PHP's mysqli returns it) or null; `dateColumns` says which columns are
 * DATE/DATETIME so the payload can use Bitrix's site format.
 */
export type Row = Record<string, string | null>;

export interface RowSet {
  rows: Row[];
  dateColumns: ReadonlySet<string>;
}

export interface OrderSnapshot {
  orderId: number;
  version: number;
  /** Raw `YYYY-MM-DD HH:MM:SS` as stored; the capture cursor and dedupe key use it. */
  dateUpdate: string;
  order: Row;
  basket: Row[];
  properties: Row[];
  payments: Row[];
  shipments: Row[];
  user: Row | null;
  dateColumns: {
    order: ReadonlySet<string>;
    basket: ReadonlySet<string>;
    payments: ReadonlySet<string>;
    shipments: ReadonlySet<string>;
  };
}
