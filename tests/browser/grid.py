"""Reading a table the dashboard shows, every header and cell of it.

``st.dataframe`` draws on a canvas; glide-data-grid keeps beside it, for screen readers,
a table of the cells in view. That table is what is read here.
"""

from __future__ import annotations

#: The headers and cells of the index-th table, every one of them.
#:
#: The grid lists for screen readers only the cells in view, each with its row and column
#: (``aria-rowindex``, ``aria-colindex``), and says how many there are
#: (``aria-rowcount``, ``aria-colcount``): a table is read once every cell has been seen.
#: Rather than scrolling it through ten rows at a time (each step waits for the grid to
#: redraw), the table is made as tall as its rows, as a person can by dragging its
#: corner; a page wide enough (such as ``WIDE`` in ``test_no_english``) shows most
#: tables' columns. A table still larger than that is scrolled through the rest.
GRID = """async (index) => {
  const frame = document.querySelectorAll('[data-testid="stDataFrame"]')[index];
  if (!frame.checkVisibility()) return null;  // not shown: nothing a reader sees
  frame.scrollIntoView({block: 'center'});
  const sleep = ms => new Promise(done => setTimeout(done, ms));
  const grid = () => frame.querySelector('table[role="grid"]');
  for (let tries = 0; tries < 200 && !(grid() && frame.querySelector('.dvn-scroller'));
       tries++) await sleep(25);
  const scroller = frame.querySelector('.dvn-scroller');
  const rows = Number(grid().getAttribute('aria-rowcount'));
  const cols = Number(grid().getAttribute('aria-colcount'));
  const seen = new Map();
  const read = () => {  // true when a cell not seen before is in view
    const before = seen.size;
    for (const row of grid().querySelectorAll('tr[aria-rowindex]'))
      for (const cell of row.querySelectorAll('[aria-colindex]'))
        seen.set(row.getAttribute('aria-rowindex') + ',' + cell.getAttribute('aria-colindex'),
                 cell.textContent);
    return seen.size > before;
  };
  const complete = () => seen.size >= rows * cols;
  const rowsInView = () => grid().querySelectorAll('tr[aria-rowindex]').length;
  read();
  const taller = Math.min(scroller.scrollHeight - scroller.clientHeight, 4000);
  if (!complete() && taller > 0) {
    // Drag the corner down: the grid's own resize handle. It follows the mouse only once
    // it has seen the press, shown by the screen-wide layer it lays over the page while
    // resizing; a release it has not seen yet would leave that layer over everything
    // (clicks elsewhere would then land on it), so the release is repeated until the
    // layer is gone.
    const layer = () => document.querySelector('div[style*="z-index: 9999"][style*="se-resize"]');
    const corner = frame.querySelector('div[style*="se-resize"]');
    const at = corner.getBoundingClientRect();
    const x = at.x + at.width / 2, y = at.y + at.height / 2;
    const to = {bubbles: true, clientX: x, clientY: y + taller};
    corner.dispatchEvent(new MouseEvent('mousedown', {...to, clientY: y, button: 0}));
    for (let waited = 0; waited < 2000 && !layer(); waited += 25) await sleep(25);
    window.dispatchEvent(new MouseEvent('mousemove', to));
    await sleep(50);
    for (let waited = 0; waited < 2000 && layer(); waited += 25) {
      window.dispatchEvent(new MouseEvent('mouseup', to));
      await sleep(25);
    }
    const shown = Math.min(rows, rowsInView() + Math.floor(taller / 35));
    for (let waited = 0; waited < 2000 && rowsInView() < shown; waited += 25) await sleep(25);
    read();
  }
  if (!complete()) {
    const maxLeft = () => scroller.scrollWidth - scroller.clientWidth;
    const maxTop = () => scroller.scrollHeight - scroller.clientHeight;
    for (let left = 0; ; left = Math.min(left + scroller.clientWidth - 100, maxLeft())) {
      for (let top = 0; ; top = Math.min(top + scroller.clientHeight - 80, maxTop())) {
        scroller.scrollTo(left, top);
        // the grid redraws on a later frame: wait for cells not seen yet
        for (let waited = 0; waited < 400 && !read() && !complete(); waited += 25)
          await sleep(25);
        if (complete() || top >= maxTop()) break;
      }
      if (complete() || left >= maxLeft()) break;
    }
  }
  return {cells: [...seen.values()], read: seen.size, of: rows * cols};
}"""


def table_cells(page, index: int) -> list[str]:
    """The headers and cells of the page's ``index``-th table (nothing when it is not
    shown). Fails when a cell could not be read: a table read in part would let text
    the check is for pass unseen."""
    table = page.evaluate(GRID, index)
    if table is None:
        return []
    assert table["read"] == table["of"], (page.url, index, table["read"], table["of"])
    return table["cells"]
