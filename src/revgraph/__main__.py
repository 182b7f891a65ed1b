# Through revgraph.entry, as the console script: the hot commands skip typer.
from revgraph.entry import main

if __name__ == "__main__":  # pragma: no cover
    main()
