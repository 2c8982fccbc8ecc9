"""What the demo shops sell and who buys there: fixed lists, so the demo is the same every time.

Prices are minor units (cents); the weight is how often an item sells, relative to the others."""

from dataclasses import dataclass

# The fee the subscriptions feature will charge; found by this SKU, never by its name.
SUBSCRIPTION_FEE_SKU = "FRAIS-ABO"


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price: int
    weight: int = 2


# Boutique Léa: clothing and accessories, all at the French standard VAT rate (20 %).
CATALOGUE = [
    Item("HAU-TSB-BLA", "T-shirt coton bio blanc", 2500, 5),
    Item("HAU-TSB-NOI", "T-shirt coton bio noir", 2500, 5),
    Item("HAU-MAR-MAR", "Marinière rayée marine", 4500, 4),
    Item("HAU-CHL-BLE", "Chemise en lin bleu ciel", 6900, 3),
    Item("HAU-CHP-BLA", "Chemise popeline blanche", 5900, 2),
    Item("HAU-BLF-FLE", "Blouse fluide imprimé fleuri", 5500, 3),
    Item("HAU-DEB-ECR", "Débardeur côtelé écru", 1990, 3),
    Item("MAI-COL-GRI", "Pull col roulé mérinos gris", 8900, 3),
    Item("MAI-CAR-CRE", "Cardigan torsadé crème", 7900, 2),
    Item("MAI-SWE-MAR", "Sweat molleton bleu marine", 5900, 3),
    Item("MAI-CAC-CAM", "Pull col V cachemire camel", 14900, 1),
    Item("BAS-JED-BRU", "Jean droit brut", 8900, 4),
    Item("BAS-JES-DEL", "Jean slim délavé", 7900, 3),
    Item("BAS-CHI-BEI", "Pantalon chino beige", 6500, 3),
    Item("BAS-PAL-NAT", "Pantalon large en lin naturel", 7500, 2),
    Item("BAS-JUP-SAU", "Jupe midi plissée vert sauge", 6900, 2),
    Item("BAS-SHO-SAB", "Short en lin sable", 4500, 2),
    Item("ROB-POR-FLE", "Robe portefeuille fleurie", 8900, 3),
    Item("ROB-CHE-KAK", "Robe chemise en lin kaki", 9500, 2),
    Item("ROB-PUL-NOI", "Robe pull côtelée noire", 7900, 2),
    Item("VES-JEA-DEL", "Veste en jean délavée", 8900, 2),
    Item("VES-TRE-BEI", "Trench-coat beige", 18900, 1),
    Item("VES-BLA-GRI", "Blazer en laine gris chiné", 15900, 1),
    Item("VES-DOU-NUI", "Doudoune légère bleu nuit", 11900, 2),
    Item("VES-CAB-MAR", "Caban en laine marine", 19900, 1),
    Item("ACC-ECH-MER", "Écharpe en laine mérinos", 3900, 4),
    Item("ACC-FOU-SOI", "Foulard en soie imprimé", 4900, 3),
    Item("ACC-BON-MOU", "Bonnet côtelé moutarde", 2500, 4),
    Item("ACC-GAN-CUI", "Gants en cuir d’agneau", 4500, 2),
    Item("ACC-CEI-MAR", "Ceinture en cuir marron", 3900, 3),
    Item("ACC-CAS-BRO", "Casquette en coton brodée", 2900, 3),
    Item("ACC-CHA-RAY", "Chaussettes rayées (lot de 3)", 1500, 5),
    Item("ACC-LUN-ECA", "Lunettes de soleil écaille", 5900, 2),
    Item("SAC-CAB-TOI", "Sac cabas en toile", 3500, 4),
    Item("SAC-BAN-COG", "Sac bandoulière en cuir cognac", 12900, 1),
    Item("SAC-POC-GRA", "Pochette en cuir grainé", 4900, 2),
    Item("SAC-POR-NOI", "Portefeuille en cuir noir", 5500, 2),
    Item("BIJ-CRE-DOR", "Boucles d’oreilles créoles dorées", 2900, 4),
    Item("BIJ-COL-MED", "Collier pendentif médaille", 3900, 3),
    Item("BIJ-BRA-JON", "Bracelet jonc doré", 3400, 3),
]
SUBSCRIPTION_FEE = Item(SUBSCRIPTION_FEE_SKU, "Frais d’abonnement", 1500)

# The small set (the second account, and quick tests): shoes and summer accessories, so that
# what one shop sees is plainly not the other's.
SMALL_CATALOGUE = [
    Item("CHA-ESP-TOI", "Espadrilles en toile rayée", 3500, 4),
    Item("CHA-BAS-BLA", "Baskets en cuir blanc", 9900, 3),
    Item("CHA-BOT-DAI", "Bottines en daim taupe", 12900, 1),
    Item("SAC-SEA-RAP", "Sac seau en raphia", 5900, 2),
    Item("ACC-CHA-PAI", "Chapeau de paille", 3900, 3),
    Item("ACC-TOT-BDX", "Tote bag « Port de la Lune »", 1800, 4),
]

CUSTOMER_TYPES = ["Particulier", "Professionnel", "VIP", "Abonné"]
# The discount a type gives its customers at the sell screen, in basis points (1000 = 10 %).
CUSTOMER_TYPE_DISCOUNTS = {"VIP": 1000}
SMALL_CUSTOMER_TYPES = ["Particulier", "Professionnel"]
# How many customers of each type the full set has (60 in all), and how many the small one has.
CUSTOMERS_PER_TYPE = {"Particulier": 38, "Professionnel": 8, "VIP": 8, "Abonné": 6}
SMALL_CUSTOMERS_PER_TYPE = {"Particulier": 6, "Professionnel": 2}

FIRST_NAMES = [
    "Camille", "Manon", "Inès", "Sarah", "Juliette", "Louise", "Emma", "Jade", "Alice", "Lina", "Clara",
    "Anaïs", "Margaux", "Élodie", "Céline", "Nathalie", "Isabelle", "Sophie", "Hélène", "Claire", "Aurélie",
    "Pauline", "Mathilde", "Zoé", "Agathe", "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Théo",
    "Louis", "Arthur", "Romain", "Mathieu", "Guillaume", "Olivier", "Pierre", "Étienne", "Benoît", "Yanis",
    "Karim", "Mehdi", "Bastien", "Adrien",
]
LAST_NAMES = [
    "Dubois", "Thomas", "Robert", "Richard", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel",
    "Garcia", "David", "Bertrand", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier",
    "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Perrin", "Morin", "Clément", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Nguyen", "Boyer", "Lemaire", "Duval", "Joly", "Roche",
    "Meyer", "Meunier", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun", "Brunet", "Schmitt", "Colin",
    "Benali", "Haddad", "Caron", "Renaud", "Aubert",
]
COMPANIES = [
    "Atelier Dumas", "Studio Cerise", "Agence Prisme", "Hôtel des Tanneurs", "Galerie Oblique",
    "Compagnie Ysé", "Cabinet Morel & Associés", "Maison Garnier Événements", "Librairie du Quai",
    "Restaurant Les Canuts",
]
# Streets by département; customers live near one of the shop's outlets.
STREETS = {
    "75": [("rue de Bretagne", "75003"), ("rue Oberkampf", "75011"), ("boulevard Voltaire", "75011"),
           ("rue des Martyrs", "75009"), ("rue de la Roquette", "75011"), ("avenue Parmentier", "75011"),
           ("rue du Faubourg-Saint-Antoine", "75012"), ("rue de Charonne", "75011"), ("rue Montorgueil", "75002"),
           ("rue de Turenne", "75003"), ("rue Saint-Maur", "75010"), ("rue Lepic", "75018"),
           ("rue de Vaugirard", "75015"), ("rue Mouffetard", "75005"), ("rue des Archives", "75004")],
    "69": [("rue de la République", "69002"), ("rue Mercière", "69002"), ("cours Lafayette", "69003"),
           ("rue Paul-Bert", "69003"), ("montée de la Grande-Côte", "69001"), ("rue Saint-Jean", "69005"),
           ("cours Vitton", "69006"), ("rue Garibaldi", "69007"), ("rue Burdeau", "69001")],
    "33": [("rue Sainte-Catherine", "33000"), ("cours Victor-Hugo", "33000"), ("quai des Chartrons", "33300"),
           ("rue Notre-Dame", "33000"), ("cours de l’Argonne", "33000")],
}
CITIES = {"75": "Paris", "69": "Lyon", "33": "Bordeaux"}
ADDRESS_LINE2 = ["", "", "", "", "Bâtiment B", "3e étage, porte gauche", "Escalier C", "Appartement 12"]
CUSTOMER_NOTES = {
    "VIP": ["Retouches offertes.", "Prévenir par SMS à l’arrivée des nouvelles collections.",
            "Taille M en hauts, 38 en bas."],
    "Professionnel": ["Facture mensuelle, règlement par chèque.", "Tenues de l’équipe d’accueil."],
    "Abonné": ["Box mensuelle, taille S.", "Box mensuelle, taille L."],
}

RETURN_REASONS = ["Taille trop petite", "Taille trop grande", "Ne convient pas", "Défaut de couture",
                  "Cadeau en double"]
VOID_REASONS = ["Erreur de saisie", "La cliente a changé d’avis", "Mauvais article scanné"]
CLOSING_NOTES = ["Écart de caisse constaté au comptage.", "Monnaie mal rendue sur une vente ?",
                 "Recompté deux fois, écart confirmé."]
PARKED_NOTE = "Ourlet à reprendre — la cliente repasse demain."

# Merchant-defined payment types: a card terminal that is not wired to us, and cheques.
TERMINAL = "Paiement terminal autonome"
CHEQUE = "Chèque"
