"""Seed the benchmark database: one shop with 3 outlets (one register each), 10,000 products,
100,000 customers and 1,000,000 completed sales (1–4 lines and one payment each) over the last two
years, plus 50,000 sales left on account (5 %).

The account, its owner, outlets and registers are made by the services (as a real sign-up would);
the volume is written by INSERT ... SELECT over generate_series, a few statements of SQL, so the
whole seed takes minutes. The database is dropped and created again on every run.

    .venv/bin/python bench/seed.py            # pos_bench at postgres://postgres@127.0.0.1:5432
    .venv/bin/python bench/seed.py --sales 100000 --customers 10000   # a smaller one
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pos_bench_small .venv/bin/python bench/seed.py --scale 0.01
                                              # every table 100 times smaller, in another database
"""

import argparse
import os
import time
from urllib.parse import urlsplit

import common

# French-looking data; Dupont is one surname in 100, so "dupont" matches ~1 % of the customers.
FIRST_NAMES = [
    "Jean", "Marie", "Pierre", "Michel", "Anne", "Philippe", "Nathalie", "Alain", "Isabelle", "Nicolas",
    "Catherine", "François", "Sylvie", "Laurent", "Sophie", "Éric", "Christine", "Stéphane", "Valérie", "Julien",
    "Céline", "Thomas", "Sandrine", "David", "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Louis",
    "Emma", "Gabriel", "Inès", "Arthur", "Jade", "Raphaël", "Louise", "Jules", "Zoé", "Adam", "Alice", "Paul",
    "Lina", "Nathan", "Rose", "Théo", "Anna", "Maël", "Juliette",
]
LAST_NAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
]
CITIES = [
    ("75011", "Paris"), ("69003", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"), ("33000", "Bordeaux"),
    ("44000", "Nantes"), ("59000", "Lille"), ("67000", "Strasbourg"), ("35000", "Rennes"), ("34000", "Montpellier"),
]
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur", "place de la Mairie",
           "rue des Lilas", "chemin des Vignes", "rue du Moulin"]
# Product names: a kind, a quality and a size, e.g. "Chemise lin bleu marine taille M".
PRODUCT_KINDS = [
    "Chemise", "Pantalon", "Pull", "Veste", "Robe", "Jupe", "T-shirt", "Chaussettes", "Écharpe", "Bonnet",
    "Café moulu", "Thé vert", "Chocolat noir", "Confiture", "Miel", "Huile d'olive", "Savon", "Bougie",
    "Carnet", "Stylo", "Tasse", "Assiette", "Torchon", "Plaid", "Coussin", "Vase", "Panier", "Sac cabas",
    "Casquette", "Ceinture", "Gants", "Parapluie", "Lunettes", "Montre", "Bracelet", "Collier", "Boucles",
    "Portefeuille", "Trousse", "Gourde",
]
PRODUCT_QUALITIES = [
    "lin", "coton bio", "laine", "soie", "velours", "jean", "cuir", "bambou", "céramique", "verre",
    "arabica", "bio", "artisanal", "vintage", "classique", "premium", "recyclé", "provençal", "breton", "alsacien",
    "rayé", "uni", "fleuri", "à carreaux", "brodé",
]
PRODUCT_COLOURS = ["bleu marine", "blanc", "noir", "rouge", "vert sapin", "gris", "beige", "jaune", "rose", "ocre"]
PRODUCT_SIZES = ["XS", "S", "M", "L", "XL", "250 g", "500 g", "1 kg", "unique", "lot de 2"]


def _pg_array(values) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def step(label: str):
    """Print how long each step took."""
    class _Step:
        def __enter__(self):
            self.start = time.perf_counter()
            print(f"  {label} …", end="", flush=True)

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.start:.1f} s", flush=True)

    return _Step()


def create_shop():
    """The account as a real sign-up makes it: owner, preset roles, shop settings, outlets, registers."""
    from accounts.models import User
    from accounts.services import account_create, outlet_create, register_create
    from retail.models import CustomerType
    from retail.services.shop import shop_setup

    owner = User.objects.create_user(common.OWNER_EMAIL, password=common.OWNER_PASSWORD, name="Propriétaire Bench")
    account = account_create(name="Boutique Bench", country="FR", currency="EUR", tz="Europe/Paris", language="fr",
                             owner=owner)
    shop_setup(account=account, actor=owner)
    registers = []
    for name in ("Paris Bastille", "Lyon Part-Dieu", "Marseille Vieux-Port"):
        outlet = outlet_create(actor=owner, account=account, name=name)
        registers.append(register_create(actor=owner, account=account, outlet_id=outlet.pk, name="Caisse 1"))
    for name in ("Abonnés", "VIP", "Professionnels"):
        CustomerType.objects.create(account=account, name=name)
    return owner, account, registers


def bulk_sql(account, owner, registers, *, products: int, customers: int, sales: int, on_account: int,
             days: int) -> None:
    from django.db import connection

    from retail.models import CustomerType, PaymentType, TaxRate

    taxes = {t.rate_bp: t.pk for t in TaxRate.objects.filter(account=account)}
    kinds = {t.kind: t.pk for t in PaymentType.objects.filter(account=account)}
    customer_types = list(CustomerType.objects.filter(account=account).values_list("pk", flat=True))
    p = {
        "account": account.pk, "owner": owner.pk, "tz": account.timezone, "language": account.language, "days": days,
        "products": products, "customers": customers, "sales": sales, "on_account": on_account,
        "vat20": taxes[2000], "vat55": taxes[550], "vat10": taxes[1000],
        "cash": kinds[PaymentType.Kind.CASH], "card": kinds[PaymentType.Kind.CARD],
        "ctype1": customer_types[0], "ctype2": customer_types[1],
    }
    outlets = "ARRAY[" + ",".join(str(r.outlet_id) for r in registers) + "]::bigint[]"
    register_ids = "ARRAY[" + ",".join(str(r.pk) for r in registers) + "]::bigint[]"

    with connection.cursor() as cur:
        def run(label, sql, params=None):
            with step(label):
                cur.execute(sql, params if params is not None else p)

        cur.execute("SET synchronous_commit = off")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SELECT setseed(0.2026)")

        run(f"{products:,} products", f"""
            INSERT INTO retail_product (account_id, sku, barcode, name, price, tax_rate_id, track_inventory,
                                        is_active, created_at, updated_at)
            SELECT %(account)s,
                   'SKU-' || lpad(g::text, 6, '0'),
                   '376' || lpad(g::text, 10, '0'),
                   k.kinds[1 + g %% array_length(k.kinds, 1)] || ' '
                     || k.qualities[1 + (g / 40) %% array_length(k.qualities, 1)] || ' '
                     || k.colours[1 + (g / 1000) %% array_length(k.colours, 1)] || ' '
                     || k.sizes[1 + (g / 7) %% array_length(k.sizes, 1)],
                   (50 + floor(random() * 150) * 100 + 90)::bigint,
                   CASE WHEN g %% 40 BETWEEN 10 AND 15 THEN %(vat55)s WHEN g %% 97 = 0 THEN %(vat10)s
                        ELSE %(vat20)s END,
                   g %% 50 <> 0,
                   g %% 100 <> 1,
                   now() - interval '3 years' + g * interval '1 hour',
                   now() - interval '3 years' + g * interval '1 hour'
            FROM generate_series(1, %(products)s) g,
                 (SELECT {_pg_array(PRODUCT_KINDS)} AS kinds, {_pg_array(PRODUCT_QUALITIES)} AS qualities,
                         {_pg_array(PRODUCT_COLOURS)} AS colours, {_pg_array(PRODUCT_SIZES)} AS sizes) k
        """)
        run("stock levels", f"""
            INSERT INTO retail_stocklevel (account_id, product_id, outlet_id, quantity)
            SELECT %(account)s, pr.id, o, floor(random() * 200)::int
            FROM retail_product pr CROSS JOIN unnest({outlets}) o
            WHERE pr.account_id = %(account)s AND pr.track_inventory
        """)
        run(f"{customers:,} customers", f"""
            INSERT INTO retail_customer (account_id, first_name, last_name, company, email, phone, address_line1,
                                         address_line2, postcode, city, country, customer_type_id, notes, balance,
                                         store_credit, language, created_at)
            SELECT %(account)s, fn, ln,
                   CASE WHEN g %% 12 = 0 THEN 'Établissements ' || ln ELSE '' END,
                   translate(lower(fn || '.' || ln), 'éèêëàâîïôöùûüç ', 'eeeeaaiioouuuc-') || g || '@exemple.fr',
                   '0' || (6 + g %% 2) || lpad((floor(random() * 100000000))::bigint::text, 8, '0'),
                   (1 + g %% 120) || ' ' || n.streets[1 + g %% array_length(n.streets, 1)],
                   '', split_part(n.cities[1 + g %% array_length(n.cities, 1)], '|', 1),
                   split_part(n.cities[1 + g %% array_length(n.cities, 1)], '|', 2), 'FR',
                   CASE WHEN g %% 10 = 0 THEN %(ctype1)s WHEN g %% 50 = 1 THEN %(ctype2)s END,
                   '', 0, 0, %(language)s,
                   now() - interval '3 years' + g * interval '10 minutes'
            FROM (SELECT g, n.firsts[1 + floor(random() * array_length(n.firsts, 1))::int] AS fn,
                         n.lasts[1 + floor(random() * array_length(n.lasts, 1))::int] AS ln
                  FROM generate_series(1, %(customers)s) g,
                       (SELECT {_pg_array(FIRST_NAMES)} AS firsts, {_pg_array(LAST_NAMES)} AS lasts) n
                  OFFSET 0) c,
                 (SELECT {_pg_array(STREETS)} AS streets,
                         {_pg_array(f"{code}|{city}" for code, city in CITIES)} AS cities) n
        """)
        # One closed session per register and shop day; sales belong to the session of their day.
        run("register sessions", f"""
            INSERT INTO retail_registersession (account_id, register_id, status, opening_float, opened_by_id,
                                                opened_at, closed_by_id, closed_at, closing_note)
            SELECT %(account)s, r, 'closed', 15000, %(owner)s,
                   (d + time '08:30') AT TIME ZONE %(tz)s, %(owner)s, (d + time '19:30') AT TIME ZONE %(tz)s, ''
            FROM (SELECT current_date - %(days)s + i AS d FROM generate_series(0, %(days)s - 1) i) days,
                 unnest({register_ids}) r
        """)
        # Staging tables: each sale's time, register and customer; each line's product and quantity.
        run("staging sales", f"""
            CREATE TEMP TABLE bench_sale AS
            SELECT row_number() OVER (ORDER BY completed_at, g) AS n, *
            FROM (SELECT g, (d + time '09:00' + random() * interval '10 hours') AT TIME ZONE %(tz)s AS completed_at,
                         d AS day, ({outlets})[r] AS outlet, ({register_ids})[r] AS register,
                         1 + floor(random() * 4)::int AS nlines,
                         g > %(sales)s AS on_account,
                         CASE WHEN g > %(sales)s OR random() < 0.35
                              THEN 1 + floor(random() * %(customers)s)::int END AS c,
                         random() < 0.35 AS cash
                  FROM (SELECT g, current_date - %(days)s + floor(random() * %(days)s)::int AS d,
                               1 + floor(random() * 3)::int AS r
                        FROM generate_series(1, %(sales)s + %(on_account)s) g OFFSET 0) days) s
        """)
        run("staging lines", """
            CREATE TEMP TABLE bench_line AS
            SELECT s.n, k AS position, 1 + floor(random() * %(products)s)::int AS p,
                   CASE WHEN random() < 0.8 THEN 1 WHEN random() < 0.75 THEN 2 ELSE 3 END AS quantity
            FROM bench_sale s, generate_series(1, s.nlines) k
        """)
        # Product and customer ids are consecutive in a fresh database; number them anyway.
        run("numbering", """
            CREATE TEMP TABLE bench_product AS
            SELECT row_number() OVER (ORDER BY pr.id) AS p, pr.id, pr.name, pr.sku, pr.price, t.rate_bp
            FROM retail_product pr JOIN retail_taxrate t ON t.id = pr.tax_rate_id
            WHERE pr.account_id = %(account)s;
            CREATE UNIQUE INDEX ON bench_product (p);
            CREATE TEMP TABLE bench_customer AS
            SELECT row_number() OVER (ORDER BY id) AS c, id FROM retail_customer WHERE account_id = %(account)s;
            CREATE UNIQUE INDEX ON bench_customer (c);
            CREATE TEMP TABLE bench_session AS
            SELECT register_id, ((opened_at AT TIME ZONE %(tz)s)::date) AS day, id
            FROM retail_registersession WHERE account_id = %(account)s;
            CREATE UNIQUE INDEX ON bench_session (register_id, day);
            -- Line amounts as retail.pricing computes them, prices including tax: half-up rounding.
            CREATE TEMP TABLE bench_amounts AS
            SELECT l.n, l.position, bp.id AS product_id, bp.name, bp.sku, l.quantity, bp.price AS unit_price,
                   bp.rate_bp, l.quantity * bp.price AS line_total,
                   (2 * l.quantity * bp.price * bp.rate_bp + 10000 + bp.rate_bp) / (2 * (10000 + bp.rate_bp))
                     AS tax_amount
            FROM bench_line l JOIN bench_product bp ON bp.p = l.p;
            CREATE TEMP TABLE bench_total AS
            SELECT n, sum(line_total)::bigint AS total, sum(tax_amount)::bigint AS tax FROM bench_amounts GROUP BY n;
            CREATE UNIQUE INDEX ON bench_total (n);
            ANALYZE bench_sale; ANALYZE bench_amounts; ANALYZE bench_total;
        """)
        run("next sale id", "SELECT coalesce(max(id), 0) FROM retail_sale")
        base_id = cur.fetchone()[0]
        p["base"] = base_id
        run(f"{sales + on_account:,} sales", """
            INSERT INTO retail_sale (id, account_id, outlet_id, register_id, session_id, status, receipt_number,
                                     customer_id, currency, prices_include_tax, subtotal, discount_total, tax_total,
                                     total, paid_total, returned_total, note, created_by_id, created_at,
                                     completed_at, voided_at, parked_at, customer_discount_bp, customer_type_name)
            SELECT %(base)s + s.n, %(account)s, s.outlet, s.register, bs.id,
                   CASE WHEN s.on_account THEN 'on_account' ELSE 'completed' END,
                   row_number() OVER (PARTITION BY s.outlet ORDER BY s.completed_at, s.n),
                   bc.id, 'EUR', true, t.total, 0, t.tax, t.total,
                   CASE WHEN s.on_account THEN 0 ELSE t.total END, 0, '', %(owner)s,
                   s.completed_at - random() * interval '3 minutes', s.completed_at, NULL, NULL, 0, ''
            FROM bench_sale s
            JOIN bench_total t ON t.n = s.n
            JOIN bench_session bs ON bs.register_id = s.register AND bs.day = s.day
            LEFT JOIN bench_customer bc ON bc.c = s.c
            ORDER BY s.n
        """)
        run("sale lines", """
            INSERT INTO retail_saleline (account_id, sale_id, product_id, name, sku, quantity, unit_price, discount,
                                         tax_rate_bp, tax_amount, line_total, returned_quantity, position,
                                         customer_discount)
            SELECT %(account)s, %(base)s + a.n, a.product_id, a.name, a.sku, a.quantity, a.unit_price, 0,
                   a.rate_bp, a.tax_amount, a.line_total, 0, a.position, 0
            FROM bench_amounts a ORDER BY a.n, a.position
        """)
        run("payments", """
            INSERT INTO retail_salepayment (account_id, sale_id, payment_type_id, session_id, amount, tendered,
                                            created_by_id, created_at, processor_payment_id)
            SELECT %(account)s, sa.id, CASE WHEN s.cash THEN %(cash)s ELSE %(card)s END, sa.session_id, sa.total,
                   CASE WHEN s.cash AND sa.total %% 500 <> 0 THEN (sa.total / 500 + 1) * 500 END,
                   %(owner)s, sa.completed_at - interval '20 seconds', NULL
            FROM bench_sale s JOIN retail_sale sa ON sa.id = %(base)s + s.n
            WHERE NOT s.on_account ORDER BY s.n
        """)
        run("balances, receipt sequences, id sequence", """
            UPDATE retail_customer c SET balance = o.due
            FROM (SELECT customer_id, sum(total - paid_total) AS due FROM retail_sale
                  WHERE account_id = %(account)s AND status = 'on_account' GROUP BY customer_id) o
            WHERE c.id = o.customer_id;
            INSERT INTO retail_receiptsequence (account_id, outlet_id, next_number)
            SELECT %(account)s, outlet_id, max(receipt_number) + 1 FROM retail_sale
            WHERE account_id = %(account)s GROUP BY outlet_id
            ON CONFLICT (outlet_id) DO UPDATE SET next_number = excluded.next_number;
            SELECT setval(pg_get_serial_sequence('retail_sale', 'id'), (SELECT max(id) FROM retail_sale));
            DROP TABLE bench_sale, bench_line, bench_product, bench_customer, bench_session, bench_amounts,
                       bench_total;
        """)


def open_registers(account, owner, registers) -> None:
    """The sell screen needs an open register; the sessions of past days are closed."""
    from retail.services.registers import register_open

    for register in registers:
        register_open(actor=owner, account=account, register_id=register.pk, opening_float=15000)


def vacuum_analyze() -> None:
    from django.db import connection

    # CHECKPOINT: the first benchmark run should not share the disk with the seed's ~1.4 GB being written out.
    with step("VACUUM ANALYZE, CHECKPOINT"), connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("CHECKPOINT")


def summary() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            SELECT (SELECT count(*) FROM retail_product), (SELECT count(*) FROM retail_customer),
                   (SELECT count(*) FROM retail_sale WHERE status = 'completed'),
                   (SELECT count(*) FROM retail_sale WHERE status = 'on_account'),
                   (SELECT count(*) FROM retail_saleline), (SELECT count(*) FROM retail_salepayment),
                   (SELECT min(completed_at)::date || ' → ' || max(completed_at)::date FROM retail_sale),
                   pg_size_pretty(pg_database_size(current_database()))
        """)
        row = cur.fetchone()
    labels = ("products", "customers", "completed sales", "on-account sales", "sale lines", "payments",
              "sales dated", "database size")
    for label, value in zip(labels, row, strict=True):
        print(f"  {label:>17}: {value:,}" if isinstance(value, int) else f"  {label:>17}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=1_000_000, help="completed sales")
    parser.add_argument("--on-account", type=int, default=None, help="on-account sales (default: 5 %% of --sales)")
    parser.add_argument("--days", type=int, default=730, help="the sales spread over this many days before today")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies the numbers of products, customers and sales (e.g. 0.01: 100 times smaller)")
    args = parser.parse_args()
    for name in ("products", "customers", "sales"):
        setattr(args, name, max(1, round(getattr(args, name) * args.scale)))
    on_account = args.on_account if args.on_account is not None else args.sales // 20

    url = os.environ.setdefault("DATABASE_URL", common.BENCH_DATABASE_URL)
    started = time.perf_counter()
    print(f"Seeding {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()}")
    with step("create database"):
        recreate_database(url)
    common.setup_django()
    from django.core.management import call_command

    with step("migrate"):
        call_command("migrate", interactive=False, verbosity=0)
    with step("account, outlets, registers (services)"):
        owner, account, registers = create_shop()
    bulk_sql(account, owner, registers, products=args.products, customers=args.customers, sales=args.sales,
             on_account=on_account, days=args.days)
    with step("open the registers (services)"):
        open_registers(account, owner, registers)
    vacuum_analyze()
    summary()
    print(f"Seeded in {time.perf_counter() - started:.0f} s. Log in as {common.OWNER_EMAIL} / {common.OWNER_PASSWORD}.")


if __name__ == "__main__":
    main()
