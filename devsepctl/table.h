/*
 * Aligned text tables for devsepctl's human output.
 *
 *   struct table t;
 *   table_init(&t, "DOMID", "KIND", "STATE", NULL);
 *   table_row(&t); table_cell(&t, "%u", domid); ...
 *   table_print(&t, stdout); table_dispose(&t);
 *
 * Cells are copied and sanitized: bytes outside printable ASCII (a guest
 * can write escape sequences into xenstore) become '?', so what reaches
 * the terminal is only what is shown.  Columns are left-aligned, separated
 * by two spaces; the last column is not padded.  An empty cell prints "-".
 */
#ifndef DEVSEPCTL_TABLE_H
#define DEVSEPCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS		16
#define TABLE_CELL_MAX		256	/* longer cells are cut with "..." */

struct table {
	size_t	  ncols;
	char	 *hdr[TABLE_MAX_COLS];
	char	**cells;	/* nrows * ncols */
	size_t	  nrows;
	size_t	  cap;		/* rows allocated */
	size_t	  col;		/* next cell of the current row */
	int	  err;		/* allocation failed: table_print says so */
};

/* Headers, NULL-terminated; at most TABLE_MAX_COLS. */
int	table_init(struct table *, ...);
void	table_dispose(struct table *);
int	table_row(struct table *);
int	table_cell(struct table *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Returns -1 if the table is incomplete or an allocation failed. */
int	table_print(const struct table *, FILE *);
/* Copies s into dst (size n), sanitized and cut as a cell is. */
void	table_sanitize(char *dst, size_t n, const char *s);

#endif
