// CSV rows as Python's csv.reader reads them with its default (excel) dialect: fields split on the
// delimiter, `"` quotes a field (`""` inside is one quote), quotes in the middle of a field are plain text.

/** The rows of `text`, each a list of fields. */
export function csvRows(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let started = false; // the current field has begun (quotes only open a field at its start)
  const endField = () => {
    row.push(field);
    field = '';
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && !started) {
      quoted = started = true;
    } else if (c === delimiter) {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (started || row.length) endField();
      rows.push(row);
      row = [];
    } else {
      field += c;
      started = true;
    }
  }
  if (started || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}
