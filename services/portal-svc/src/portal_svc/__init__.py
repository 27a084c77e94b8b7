"""portal-svc: accounts, companies, portals, embed code, the customer portal and request submission."""
