"""The workbench's pages, one module per part: sign-in, alerts, cases, entities, audit."""
