package io.custos.catalog;

import java.sql.SQLException;

/** A catalog statement failed: the catalog is unreadable or unwritable (exit 5). */
public final class CatalogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CatalogException(String what, SQLException cause) {
        super("catalog " + what + " failed: " + cause.getMessage(), cause);
    }
}
