"""The one registry type: how an app adds something to an app below it, which must not import it.

The lower app holds a `Registry` (named for error messages); the higher app registers into it in its
`AppConfig.ready`, under a key:

    sell_actions.ACTIONS.register("saved_payments", SellPaymentAction(...), order=20)

- A key is registered once. Registering the same key again is harmless when it is the same (or an
  equal) object, so a second `ready()` changes nothing; a different object under a taken key is a
  programming error (`AlreadyRegistered`), raised at start-up rather than one entry silently winning.
- `get(key)` answers the entry, or raises `NotRegistered` naming the registry and what it holds.
- Listing (`values()`, `items()`, `keys()`, iteration) is in a stable order: the explicit `order`,
  then the key, whatever order the apps were loaded in.
- A registry with `single=True` holds at most one entry (one card saver).

What is specific to one registry (its entries' dataclass, a `grouped()` or `shown()` helper) stays in
the module that holds it, on top of this type. Tests that add entries use `copy()` on a monkeypatched
attribute, so the process's registry is left as the apps made it.
"""

from collections.abc import Iterator


class AlreadyRegistered(Exception):
    pass


class NotRegistered(LookupError):
    pass


class Registry[T]:
    def __init__(self, name: str, *, single: bool = False):
        self.name = name
        self.single = single
        self._entries: dict[str, tuple[int, T]] = {}

    def __repr__(self):
        return f"<Registry {self.name}: {', '.join(self.keys()) or 'empty'}>"

    def register(self, key: str, item: T, *, order: int = 0) -> T:
        """Add `item` under `key`, listed by `order` then key. Returns the item."""
        if not isinstance(key, str) or not key:
            raise TypeError(f"{self.name}: a key is a non-empty string, not {key!r}")
        existing = self._entries.get(key)
        if existing is not None:
            if existing[0] == order and (existing[1] is item or existing[1] == item):
                return item
            raise AlreadyRegistered(f"{self.name}: {key!r} is already registered ({existing[1]!r}, order "
                                    f"{existing[0]}); refusing {item!r} (order {order})")
        if self.single and self._entries:
            raise AlreadyRegistered(f"{self.name} holds one entry and has {self.keys()[0]!r}; refusing {key!r}")
        self._entries[key] = (order, item)
        return item

    def get(self, key: str) -> T:
        try:
            return self._entries[key][1]
        except (KeyError, TypeError):
            raise NotRegistered(f"{self.name}: nothing is registered under {key!r} "
                                f"(registered: {', '.join(self.keys()) or 'nothing'})") from None

    def first(self) -> T | None:
        """The first entry in order, or None when empty (a single-entry registry's one entry)."""
        return next(iter(self.values()), None)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def _ordered(self) -> list[tuple[str, T]]:
        return [(key, item) for key, (_order, item)
                in sorted(self._entries.items(), key=lambda entry: (entry[1][0], entry[0]))]

    def keys(self) -> list[str]:
        return [key for key, _item in self._ordered()]

    def values(self) -> list[T]:
        return [item for _key, item in self._ordered()]

    def items(self) -> list[tuple[str, T]]:
        return self._ordered()

    def __iter__(self) -> Iterator[T]:
        return iter(self.values())

    def copy(self) -> "Registry[T]":
        """The same entries in a new registry of the same class (for tests that register more)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._entries = dict(self._entries)
        return clone
