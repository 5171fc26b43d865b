"""Word lists and clause variants for the synthetic GAP contracts.

Everything a generated contract says comes from here, so that the generator
(``contracts.py``) only decides *which* variant to use and the wording can be
reviewed (or extended) in one place. Names of dealers, lenders and
administrators are fictional on purpose: the demo must not look like it
describes a real company's customers. Phone numbers use the 555-01xx range
reserved for fiction.

Clause variants are ``str.format`` templates. The placeholders they may use
are the keys of the context built by ``contracts._FullDocument._context``
(``noun``, ``label``, ``contract``, ``creditor``, ``buyer``, ``admin`` ...).

Invariants the generator's ground truth relies on (the tests check them on the
generated text, so a new variant that breaks one fails loudly):

* only the method clauses name a refund method ("pro rata", "prorated",
  "in proportion to", "Rule of 78s", "sum of the digits", "78ths",
  "actuarial", "short-rate"); no other clause may use those words;
* only the fee clauses mention a cancellation / administrative fee, or say
  that there is no fee; other clauses may mention other fees (documentary,
  lien, late payment, claim processing) as distractors;
* no word list entry contains a double quote or a backslash, because the
  compact mode writes ``vehicle_info`` JSON by string formatting.
"""

from __future__ import annotations

from typing import NamedTuple


class State(NamedTuple):
    """A US state where the contract was sold; the cities name the dealer's location."""

    abbr: str
    name: str
    cities: tuple[str, ...]
    zip_low: int
    zip_high: int
    weight: int


class Model(NamedTuple):
    """A vehicle model with the model years it was really sold in.

    ``wmis`` are the World Manufacturer Identifiers of the plants that built
    it, so that a VIN's first three characters match the make (a reviewer who
    knows VINs notices a Toyota starting with ``1FT``).
    """

    name: str
    first_year: int
    last_year: int
    trims: tuple[str, ...]
    wmis: tuple[str, ...]
    plant: str
    msrp: int  # typical new price in thousands of dollars: amounts financed follow the vehicle


class Make(NamedTuple):
    """A make with a rough market-share weight (trucks and big brands dominate real portfolios)."""

    name: str
    weight: int
    models: tuple[Model, ...]


def _state(abbr: str, name: str, zip_low: int, zip_high: int, weight: int, cities: str) -> State:
    return State(abbr, name, tuple(cities.split(", ")), zip_low, zip_high, weight)


def _model(name: str, years: str, wmis: str, plant: str, msrp: int, trims: str) -> Model:
    first, last = years.split("-")
    return Model(name, int(first), int(last), tuple(trims.split("|")), tuple(wmis.split()), plant, msrp)


def _make(name: str, weight: int, *models: Model) -> Make:
    return Make(name, weight, models)


STATES: tuple[State, ...] = (
    _state(
        "TX",
        "Texas",
        750,
        799,
        14,
        "Austin, Houston, San Antonio, Dallas, Fort Worth, El Paso, Lubbock, McAllen",
    ),
    _state(
        "CA",
        "California",
        900,
        961,
        14,
        "Sacramento, Fresno, San Diego, Riverside, Bakersfield, Torrance, Oakland, Ontario",
    ),
    _state(
        "FL", "Florida", 320, 349, 10, "Tampa, Orlando, Jacksonville, Ocala, Pensacola, Sarasota, Fort Myers"
    ),
    _state("NY", "New York", 100, 149, 6, "Albany, Buffalo, Rochester, Syracuse, Yonkers, Poughkeepsie"),
    _state("PA", "Pennsylvania", 150, 196, 5, "Harrisburg, Pittsburgh, Allentown, Scranton, Erie, Lancaster"),
    _state("OH", "Ohio", 430, 458, 5, "Columbus, Dayton, Toledo, Akron, Cincinnati, Canton"),
    _state("IL", "Illinois", 600, 629, 5, "Springfield, Naperville, Peoria, Rockford, Joliet, Schaumburg"),
    _state("GA", "Georgia", 300, 319, 5, "Atlanta, Savannah, Macon, Augusta, Marietta, Athens"),
    _state(
        "NC", "North Carolina", 270, 289, 5, "Raleigh, Charlotte, Greensboro, Durham, Asheville, Wilmington"
    ),
    _state("MI", "Michigan", 480, 499, 4, "Lansing, Grand Rapids, Kalamazoo, Flint, Troy, Ann Arbor"),
    _state("AZ", "Arizona", 850, 865, 4, "Phoenix, Tucson, Mesa, Chandler, Flagstaff, Yuma"),
    _state("WA", "Washington", 980, 994, 4, "Tacoma, Spokane, Everett, Olympia, Yakima, Bellevue"),
    _state("CO", "Colorado", 800, 816, 3, "Denver, Aurora, Boulder, Pueblo, Greeley, Littleton"),
    _state("TN", "Tennessee", 370, 385, 3, "Nashville, Knoxville, Chattanooga, Memphis, Murfreesboro"),
    _state("VA", "Virginia", 220, 246, 3, "Richmond, Norfolk, Roanoke, Fairfax, Lynchburg, Chesapeake"),
    _state("NJ", "New Jersey", 70, 89, 3, "Trenton, Newark, Paramus, Edison, Cherry Hill, Toms River"),
    _state("MO", "Missouri", 630, 658, 3, "Springfield, Columbia, Kansas City, St. Louis, Joplin"),
    _state("IN", "Indiana", 460, 479, 3, "Indianapolis, Fort Wayne, Evansville, Carmel, Bloomington"),
    _state("WI", "Wisconsin", 530, 549, 2, "Madison, Milwaukee, Green Bay, Appleton, Kenosha"),
    _state("MN", "Minnesota", 550, 567, 2, "Minneapolis, Rochester, Duluth, Bloomington, St. Cloud"),
    _state("AL", "Alabama", 350, 369, 2, "Birmingham, Huntsville, Mobile, Montgomery, Tuscaloosa"),
    _state("SC", "South Carolina", 290, 299, 2, "Columbia, Greenville, Charleston, Spartanburg, Florence"),
    _state("LA", "Louisiana", 700, 714, 2, "Baton Rouge, Lafayette, Shreveport, Metairie, Monroe"),
    _state("KY", "Kentucky", 400, 427, 2, "Louisville, Lexington, Bowling Green, Owensboro"),
    _state("OK", "Oklahoma", 730, 749, 2, "Oklahoma City, Tulsa, Norman, Lawton, Edmond"),
    _state("OR", "Oregon", 970, 979, 2, "Portland, Salem, Eugene, Medford, Bend"),
    _state("NV", "Nevada", 889, 898, 2, "Las Vegas, Reno, Henderson, Carson City"),
    _state("UT", "Utah", 840, 847, 2, "Salt Lake City, Provo, Ogden, St. George, Orem"),
    _state("MD", "Maryland", 206, 219, 2, "Baltimore, Annapolis, Frederick, Rockville, Hagerstown"),
    _state("MA", "Massachusetts", 10, 27, 2, "Worcester, Springfield, Lowell, Framingham, Brockton"),
    _state("KS", "Kansas", 660, 679, 1, "Wichita, Topeka, Overland Park, Lawrence"),
    _state("IA", "Iowa", 500, 528, 1, "Des Moines, Cedar Rapids, Davenport, Sioux City"),
    _state("NM", "New Mexico", 870, 884, 1, "Albuquerque, Santa Fe, Las Cruces, Roswell"),
    _state("AR", "Arkansas", 716, 729, 1, "Little Rock, Fayetteville, Fort Smith, Jonesboro"),
    _state("MS", "Mississippi", 386, 397, 1, "Jackson, Gulfport, Hattiesburg, Tupelo"),
    _state("NE", "Nebraska", 680, 693, 1, "Omaha, Lincoln, Grand Island, Kearney"),
    _state("ID", "Idaho", 832, 838, 1, "Boise, Nampa, Idaho Falls, Coeur d'Alene"),
)

MAKES: tuple[Make, ...] = (
    _make(
        "Toyota",
        15,
        _model("Camry", "2010-2026", "4T1", "U", 29, "LE|SE|XLE|XSE"),
        _model("Corolla", "2010-2026", "5YF JTD", "P", 23, "L|LE|SE|XSE"),
        _model("RAV4", "2010-2026", "2T3 JTM", "W", 32, "LE|XLE|XLE Premium|Adventure|Limited"),
        _model("Highlander", "2010-2026", "5TD", "S", 42, "L|LE|XLE|Limited|Platinum"),
        _model("Tacoma", "2010-2026", "3TM 5TF", "M", 36, "SR|SR5|TRD Sport|TRD Off-Road"),
        _model("Tundra", "2010-2026", "5TF", "X", 52, "SR5|Limited|Platinum|1794 Edition"),
        _model("4Runner", "2010-2025", "JTE", "5", 44, "SR5|TRD Off-Road|Limited"),
        _model("Sienna", "2011-2026", "5TD", "S", 42, "LE|XLE|Limited"),
        _model("Corolla Cross", "2022-2026", "7MU", "A", 27, "L|LE|XLE"),
        _model("Prius", "2010-2026", "JTD", "3", 30, "LE|XLE|Limited"),
    ),
    _make(
        "Ford",
        15,
        _model("F-150", "2010-2026", "1FT", "F", 52, "XL|XLT|Lariat|King Ranch|Platinum"),
        _model("Escape", "2010-2026", "1FM", "L", 31, "S|SE|SEL|Titanium"),
        _model("Explorer", "2011-2026", "1FM", "G", 42, "Base|XLT|Limited|ST"),
        _model("Mustang", "2010-2026", "1FA", "5", 36, "EcoBoost|EcoBoost Premium|GT"),
        _model("Bronco", "2021-2026", "1FM", "L", 45, "Big Bend|Black Diamond|Outer Banks|Badlands"),
        _model("Bronco Sport", "2021-2026", "3FM", "R", 33, "Big Bend|Outer Banks|Badlands"),
        _model("Maverick", "2022-2026", "3FT", "R", 28, "XL|XLT|Lariat"),
        _model("Ranger", "2019-2026", "1FT", "L", 36, "XL|XLT|Lariat"),
        _model("Edge", "2011-2024", "2FM", "B", 38, "SE|SEL|ST"),
        _model("Expedition", "2010-2026", "1FM", "E", 62, "XLT|Limited|Platinum"),
        _model("Mustang Mach-E", "2021-2026", "3FM", "M", 48, "Select|Premium|GT"),
    ),
    _make(
        "Chevrolet",
        13,
        _model("Silverado 1500", "2010-2026", "1GC 3GC", "Z", 50, "WT|Custom|LT|RST|LTZ|High Country"),
        _model("Equinox", "2010-2026", "2GN 3GN", "6", 30, "LS|LT|RS|Premier"),
        _model("Malibu", "2010-2025", "1G1", "F", 26, "LS|LT|RS|Premier"),
        _model("Tahoe", "2010-2026", "1GN", "R", 60, "LS|LT|Z71|Premier"),
        _model("Traverse", "2010-2026", "1GN", "J", 40, "LS|LT|Z71|RS"),
        _model("Trax", "2015-2026", "KL7 3GN", "B", 23, "LS|LT|1RS|ACTIV"),
        _model("Colorado", "2015-2026", "1GC", "1", 36, "WT|LT|Z71|Trail Boss"),
        _model("Bolt EV", "2017-2023", "1G1", "4", 30, "LT|2LT"),
        _model("Camaro", "2010-2024", "1G1", "0", 35, "1LT|2LT|1SS|2SS"),
        _model("Blazer", "2019-2026", "3GN", "S", 38, "LT|RS|Premier"),
    ),
    _make(
        "Honda",
        12,
        _model("Civic", "2010-2026", "2HG 19X", "H", 26, "LX|Sport|EX|Touring"),
        _model("Accord", "2010-2026", "1HG", "A", 30, "LX|Sport|EX-L|Touring"),
        _model("CR-V", "2010-2026", "2HK 5J6 7FA", "L", 33, "LX|EX|EX-L|Touring"),
        _model("Pilot", "2010-2026", "5FN", "B", 43, "LX|EX-L|TrailSport|Elite"),
        _model("HR-V", "2016-2026", "3CZ", "M", 26, "LX|Sport|EX-L"),
        _model("Odyssey", "2011-2026", "5FN", "B", 41, "EX|EX-L|Touring"),
        _model("Ridgeline", "2017-2026", "5FP", "B", 42, "Sport|RTL|Black Edition"),
    ),
    _make(
        "Nissan",
        8,
        _model("Altima", "2010-2026", "1N4", "N", 28, "S|SV|SR|SL"),
        _model("Rogue", "2010-2026", "5N1 JN8", "C", 31, "S|SV|SL|Platinum"),
        _model("Sentra", "2010-2026", "3N1", "L", 22, "S|SV|SR"),
        _model("Pathfinder", "2010-2026", "5N1", "C", 40, "S|SV|SL|Platinum"),
        _model("Frontier", "2010-2026", "1N6", "N", 34, "S|SV|PRO-4X"),
        _model("Kicks", "2018-2026", "3N1", "L", 22, "S|SV|SR"),
        _model("Murano", "2010-2026", "5N1", "W", 38, "S|SV|SL|Platinum"),
    ),
    _make(
        "Hyundai",
        7,
        _model("Elantra", "2010-2026", "5NP KMH", "U", 23, "SE|SEL|N Line|Limited"),
        _model("Tucson", "2010-2026", "KM8 5NM", "U", 30, "SE|SEL|N Line|Limited"),
        _model("Santa Fe", "2010-2026", "5NM", "H", 34, "SE|SEL|XRT|Limited|Calligraphy"),
        _model("Sonata", "2010-2026", "5NP", "H", 28, "SE|SEL|N Line|Limited"),
        _model("Palisade", "2020-2026", "KM8", "U", 42, "SE|SEL|XRT|Limited|Calligraphy"),
        _model("Kona", "2018-2026", "KM8", "U", 25, "SE|SEL|N Line|Limited"),
        _model("Ioniq 5", "2022-2026", "KM8", "U", 46, "SE|SEL|Limited"),
        _model("Santa Cruz", "2022-2026", "5NT", "H", 32, "SE|SEL|XRT|Limited"),
    ),
    _make(
        "Kia",
        6,
        _model("Forte", "2010-2024", "3KP", "E", 21, "FE|LXS|GT-Line"),
        _model("K5", "2021-2026", "5XX", "G", 28, "LXS|GT-Line|EX"),
        _model("Sportage", "2011-2026", "KND", "7", 30, "LX|EX|X-Line|SX"),
        _model("Sorento", "2011-2026", "5XY", "G", 35, "LX|S|EX|SX"),
        _model("Telluride", "2020-2026", "5XY", "G", 42, "LX|S|EX|SX"),
        _model("Soul", "2010-2025", "KND", "7", 21, "LX|S|GT-Line"),
        _model("Carnival", "2022-2026", "KND", "6", 38, "LX|EX|SX"),
    ),
    _make(
        "Jeep",
        6,
        _model("Wrangler", "2010-2026", "1C4", "W", 40, "Sport|Sahara|Rubicon"),
        _model("Grand Cherokee", "2010-2026", "1C4", "C", 46, "Laredo|Limited|Overland|Summit"),
        _model("Cherokee", "2014-2023", "1C4", "D", 32, "Latitude|Limited|Trailhawk"),
        _model("Compass", "2010-2026", "3C4", "T", 29, "Sport|Latitude|Limited"),
        _model("Gladiator", "2020-2026", "1C6", "L", 44, "Sport|Overland|Rubicon"),
    ),
    _make(
        "Ram",
        6,
        _model("1500", "2011-2026", "1C6 3C6", "N", 50, "Tradesman|Big Horn|Laramie|Rebel|Limited"),
        _model("2500", "2011-2026", "3C6", "G", 58, "Tradesman|Big Horn|Laramie"),
    ),
    _make(
        "GMC",
        5,
        _model("Sierra 1500", "2010-2026", "1GT 3GT", "Z", 54, "Pro|SLE|Elevation|SLT|AT4|Denali"),
        _model("Terrain", "2010-2026", "3GK", "L", 32, "SLE|SLT|AT4|Denali"),
        _model("Acadia", "2010-2026", "1GK", "J", 42, "SLE|SLT|AT4|Denali"),
        _model("Yukon", "2010-2026", "1GK", "R", 64, "SLE|SLT|AT4|Denali"),
    ),
    _make(
        "Subaru",
        5,
        _model("Outback", "2010-2026", "4S4", "3", 33, "Base|Premium|Limited|Touring|Wilderness"),
        _model("Forester", "2010-2026", "JF2", "H", 31, "Base|Premium|Sport|Limited"),
        _model("Crosstrek", "2013-2026", "JF2", "8", 27, "Base|Premium|Sport|Limited"),
        _model("Ascent", "2019-2026", "4S4", "3", 38, "Premium|Limited|Touring"),
    ),
    _make(
        "Tesla",
        3,
        _model("Model 3", "2017-2026", "5YJ", "F", 42, "Standard Range Plus|Long Range|Performance"),
        _model("Model Y", "2020-2026", "5YJ 7SA", "F", 49, "Long Range|Performance"),
        _model("Model S", "2012-2026", "5YJ", "F", 85, "Long Range|Plaid"),
        _model("Model X", "2016-2026", "5YJ", "F", 95, "Long Range|Plaid"),
    ),
    _make(
        "Mazda",
        3,
        _model("Mazda3", "2010-2026", "3MZ JM1", "1", 25, "Select|Preferred|Premium"),
        _model("CX-5", "2013-2026", "JM3", "0", 30, "Sport|Touring|Carbon Edition|Grand Touring"),
        _model("CX-30", "2020-2026", "3MV", "1", 26, "Select|Preferred|Premium"),
        _model("CX-50", "2023-2026", "7MM", "U", 33, "S Select|S Premium|Turbo"),
        _model("CX-90", "2024-2026", "JM3", "0", 42, "Select|Preferred|Premium"),
    ),
    _make(
        "Volkswagen",
        3,
        _model("Jetta", "2010-2026", "3VW", "M", 23, "S|SE|SEL|GLI"),
        _model("Tiguan", "2010-2026", "3VV", "M", 30, "S|SE|SEL"),
        _model("Atlas", "2018-2026", "1V2", "C", 40, "SE|SEL|SEL Premium"),
        _model("Taos", "2022-2026", "3VV", "P", 26, "S|SE|SEL"),
    ),
    _make(
        "BMW",
        2,
        _model("X3", "2011-2026", "5UX", "9", 49, "sDrive30i|xDrive30i|M40i"),
        _model("X5", "2010-2026", "5UX", "9", 67, "sDrive40i|xDrive40i|M60i"),
        _model("330i", "2017-2026", "WBA 3MW", "8", 46, "Sedan|xDrive Sedan"),
    ),
    _make(
        "Mercedes-Benz",
        2,
        _model("C-Class", "2010-2026", "W1K 55S", "R", 48, "C 300|C 300 4MATIC"),
        _model("GLE", "2016-2026", "4JG", "A", 62, "GLE 350|GLE 350 4MATIC|GLE 450 4MATIC"),
        _model("GLC", "2016-2026", "W1N", "F", 50, "GLC 300|GLC 300 4MATIC"),
    ),
    _make(
        "Lexus",
        2,
        _model("RX", "2010-2026", "2T2", "C", 52, "RX 350|RX 350h|RX 500h"),
        _model("ES", "2010-2026", "58A JTH", "U", 44, "ES 250|ES 350|ES 300h"),
        _model("NX", "2015-2026", "2T2 JTJ", "C", 43, "NX 250|NX 350|NX 350h"),
    ),
    _make(
        "Dodge",
        2,
        _model("Charger", "2010-2023", "2C3", "H", 36, "SXT|GT|R/T|Scat Pack"),
        _model("Durango", "2011-2026", "1C4", "C", 44, "SXT|GT|R/T|Citadel"),
    ),
)

COLORS: tuple[str, ...] = (
    "White",
    "Black",
    "Silver",
    "Gray",
    "Blue",
    "Red",
    "Oxford White",
    "Summit White",
    "Super White",
    "Bright White",
    "Agate Black",
    "Midnight Black Metallic",
    "Crystal Black Pearl",
    "Mosaic Black Metallic",
    "Celestial Silver Metallic",
    "Lunar Silver Metallic",
    "Iconic Silver Metallic",
    "Ingot Silver",
    "Magnetic Gray Metallic",
    "Carbonized Gray",
    "Cement Gray",
    "Sonic Gray Pearl",
    "Granite Crystal",
    "Velocity Blue",
    "Blueprint",
    "Atlas Blue Metallic",
    "Northsky Blue Metallic",
    "Deep Crystal Blue",
    "Ruby Flare Pearl",
    "Rapid Red Metallic",
    "Radiant Red",
    "Soul Red Crystal",
    "Cactus Gray",
    "Desert Sand",
    "Army Green",
    "Sunset Orange",
    "Cypress Green",
    "Pearl White Tricoat",
)

DEALER_PREFIXES: tuple[str, ...] = (
    "Sunrise",
    "Lakeside",
    "Capitol",
    "Heritage",
    "Summit",
    "Riverside",
    "Prairie",
    "Coastal",
    "Valley",
    "Gateway",
    "Liberty",
    "Pioneer",
    "Northgate",
    "Westfield",
    "Eastside",
    "Keystone",
    "Bayshore",
    "Redwood",
    "Ironwood",
    "Meadowbrook",
    "Cedar Creek",
    "Blue Ridge",
    "Silver Lake",
    "Harbor",
    "Granite",
    "Evergreen",
    "Frontier",
    "Twin Oaks",
    "Crossroads",
    "Hometown",
    "Hendricks",
    "McAllister",
    "Dalton",
    "Whitaker",
    "Prescott",
    "Galloway",
    "Kowalski",
    "Alvarez",
    "Nakamura",
    "O'Brien",
    "Castellano",
    "Lindqvist",
    "Okafor",
    "Brennan",
    "Delgado",
    "Pemberton",
    "Rutherford",
    "Sandoval",
    "Thornton",
    "Vasquez",
    "Wexford",
    "Yarborough",
)

# "%(p)s" prefix, "%(m)s" make, "%(c)s" city: patterns, not str.format, because the compact hot path
# fills them with the % operator.
DEALER_PATTERNS: tuple[str, ...] = (
    "%(p)s %(m)s",
    "%(p)s %(m)s of %(c)s",
    "%(c)s %(m)s",
    "%(p)s Auto Group",
    "%(p)s Motors, LLC",
    "%(p)s Automotive, Inc.",
    "%(p)s %(m)s Superstore",
    "%(c)s Auto Plaza",
    "%(p)s Motor Company",
)

LENDERS: tuple[str, ...] = (
    "Summit Ridge Auto Finance, LLC",
    "Great Plains Credit Union",
    "Harborview Bank, N.A.",
    "Keystone Motor Acceptance Corp.",
    "Lakeshore Federal Credit Union",
    "Pinecrest Auto Credit, Inc.",
    "Redstone Consumer Finance Company",
    "Tri-County Community Bank",
    "Meridian Vehicle Finance",
    "Blue Heron Savings Bank",
    "Northwind Financial Services, Inc.",
    "Copperline Credit Union",
    "Granite Peak Auto Lending",
    "Old Mill National Bank",
    "Sagebrush Federal Credit Union",
    "Cardinal Auto Receivables Trust",
    "Union Square Motor Credit",
    "Beacon Hill Acceptance Corporation",
    "Prairie Wind Bank",
    "Tidewater Vehicle Credit, LLC",
    "Mapleton Teachers Credit Union",
    "Ironbridge Capital Auto Finance",
    "Westmark Bank & Trust",
    "Silverline Consumer Credit",
)

ADMINISTRATORS: tuple[tuple[str, str, str], ...] = (
    ("Sentinel Contract Administration, Inc.", "P.O. Box 4410, Dallas, TX 75240", "1-800-555-0142"),
    ("Guardian Warranty & GAP Services, LLC", "P.O. Box 7781, Tampa, FL 33607", "1-888-555-0117"),
    ("Assurance Benefit Administrators, Inc.", "1200 Commerce Parkway, Columbus, OH 43215", "1-877-555-0163"),
    ("Landmark Protection Services Corp.", "P.O. Box 9020, Phoenix, AZ 85072", "1-800-555-0188"),
    ("Anchor Point Administrative Services", "55 Industrial Way, Harrisburg, PA 17110", "1-866-555-0129"),
    ("Crestview GAP Administrators, LLC", "P.O. Box 2236, Nashville, TN 37202", "1-855-555-0174"),
    ("Harbor Light Contract Services, Inc.", "400 Lakeview Drive, Grand Rapids, MI 49503", "1-800-555-0156"),
    ("Pinnacle Debt Protection Administrators", "P.O. Box 13850, Sacramento, CA 95813", "1-844-555-0191"),
)

INSURERS: tuple[str, ...] = (
    "Continental Auto Guaranty Insurance Company",
    "Midland Casualty and Surety Company",
    "Heartland Specialty Insurance Company",
    "American Motorist Indemnity Company",
    "Evergreen Fire & Casualty Insurance Company",
)

OTHER_PRODUCTS: tuple[tuple[str, int, int], ...] = (
    ("Vehicle Service Contract", 1495, 3495),
    ("Tire & Wheel Protection", 395, 995),
    ("Key Replacement Protection", 299, 699),
    ("Appearance Protection Package", 495, 1295),
    ("Theft Deterrent / Etch", 199, 499),
    ("Paintless Dent Repair", 349, 899),
    ("Windshield Protection", 249, 599),
    ("Prepaid Maintenance Plan", 595, 1495),
)

# Per contract type: (contract name, creditor role, buyer role, short name of the contract).
CONTRACT_TERMS: dict[str, tuple[str, str, str, str]] = {
    "retail_installment": ("Retail Installment Sale Contract", "Creditor", "Buyer", "Contract"),
    "lease": ("Motor Vehicle Lease Agreement", "Lessor", "Lessee", "Lease"),
    "balloon": ("Balloon Payment Retail Installment Contract", "Creditor", "Buyer", "Contract"),
    "refinance": ("Refinance Loan and Security Agreement", "Lender", "Borrower", "Loan Agreement"),
}

# Document families. Each: (titles, noun, charge labels, administrator role).
# The label is what the contract calls the premium; "Debt Cancellation Fee" deliberately contains the
# words "cancellation fee", which is the classic trap for an extractor looking for the fee field.
WAIVER_FAMILY = (
    (
        "GUARANTEED ASSET PROTECTION (GAP) WAIVER ADDENDUM",
        "GAP WAIVER ADDENDUM",
        "GUARANTEED ASSET PROTECTION WAIVER",
        "GAP WAIVER AGREEMENT",
        "GUARANTEED AUTO PROTECTION WAIVER ADDENDUM",
    ),
    "Addendum",
    ("GAP Waiver Charge", "Charge for GAP Waiver", "GAP Waiver Price", "GAP Charge"),
    "Administrator",
)
DCA_FAMILY = (
    (
        "DEBT CANCELLATION AGREEMENT",
        "DEBT CANCELLATION ADDENDUM",
        "GUARANTEED ASSET PROTECTION DEBT CANCELLATION AGREEMENT",
        "GAP DEBT CANCELLATION CONTRACT",
    ),
    "Agreement",
    ("Debt Cancellation Fee", "Debt Cancellation Charge", "Charge for this Agreement"),
    "Administrator",
)
INSURANCE_FAMILY = (
    (
        "GAP INSURANCE CERTIFICATE",
        "CERTIFICATE OF GAP INSURANCE",
        "GUARANTEED AUTO PROTECTION INSURANCE CERTIFICATE",
        "GROUP GAP INSURANCE CERTIFICATE",
    ),
    "Certificate",
    ("GAP Insurance Premium", "Total Premium", "Single Premium for GAP Coverage"),
    "Claims Administrator",
)
FAMILIES = (WAIVER_FAMILY, DCA_FAMILY, INSURANCE_FAMILY)

SECTION_STYLES: tuple[str, ...] = (
    "{n}. {title}",
    "SECTION {n} – {title}",
    "ARTICLE {roman}. {title}",
    "{n}) {title}",
    "PART {n} - {title}",
)

SECTION_TITLES: dict[str, tuple[str, ...]] = {
    "definitions": ("DEFINITIONS", "DEFINED TERMS", "MEANING OF WORDS USED IN THIS {NOUN}"),
    "benefit": ("GAP BENEFIT", "WHAT THIS {NOUN} COVERS", "WAIVER OF DEBT", "BENEFITS PROVIDED"),
    "exclusions": ("EXCLUSIONS", "WHAT IS NOT COVERED", "LIMITATIONS AND EXCLUSIONS"),
    "claims": ("CLAIMS PROCEDURE", "HOW TO FILE A CLAIM", "CLAIM REQUIREMENTS"),
    "refund": (
        "CANCELLATION AND REFUNDS",
        "REFUND PROVISIONS",
        "EARLY TERMINATION",
        "CANCELLATION; REFUND OF CHARGE",
        "YOUR RIGHT TO CANCEL",
        "TERMINATION AND CANCELLATION",
    ),
    "charge": ("CHARGE FOR THIS {NOUN}", "PRICE AND PAYMENT", "COST OF THIS {NOUN}"),
    "eligibility": ("ELIGIBILITY", "CONDITIONS OF COVERAGE", "WHO IS ELIGIBLE"),
    "insurance": ("PRIMARY INSURANCE REQUIREMENT", "YOUR INSURANCE OBLIGATIONS", "PHYSICAL DAMAGE INSURANCE"),
    "transfer": ("TRANSFER", "TRANSFER AND ASSIGNMENT", "IF YOU SELL THE VEHICLE"),
    "liability": ("LIMITATION OF LIABILITY", "LIMITS ON OUR OBLIGATIONS"),
    "general": ("GENERAL PROVISIONS", "OTHER TERMS", "MISCELLANEOUS"),
    "arbitration": ("ARBITRATION", "DISPUTE RESOLUTION"),
    "state": ("STATE-SPECIFIC DISCLOSURES", "STATE DISCLOSURE RIDER", "SPECIAL STATE REQUIREMENTS"),
}

INTRO_CLAUSES: tuple[str, ...] = (
    "This {noun} is made a part of the {contract} between you and the {creditor} named above. "
    "In this {noun}, the words \u201cyou\u201d and \u201cyour\u201d mean the {buyer}, and \u201cwe\u201d, "
    "\u201cus\u201d and \u201cour\u201d mean the {creditor} and its assignee.",
    "The {buyer} has elected to purchase this {noun} in connection with the {contract}. Purchase of this "
    "{noun} is optional and is not required in order to obtain credit.",
    "THE PURCHASE OF THIS {NOUN} IS VOLUNTARY AND IS NOT REQUIRED AS A CONDITION OF FINANCING THE "
    "PURCHASE OR LEASE OF THE VEHICLE. PLEASE READ THIS {NOUN} CAREFULLY.",
)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Actual Cash Value (ACV)",
        "the value of the Vehicle on the date of the Total Loss as determined by your "
        "Primary Carrier, or, if there is no Primary Carrier, by a nationally recognized valuation guide.",
    ),
    (
        "Amount Financed",
        "the amount shown as Amount Financed in the Truth in Lending disclosure of your {contract}.",
    ),
    (
        "Deductible",
        "the amount your Primary Carrier subtracts from its settlement under your physical damage "
        "insurance policy.",
    ),
    (
        "Gap Amount",
        "the difference between the Net Payoff of your {contract} on the date of the Total Loss and "
        "the Actual Cash Value of the Vehicle, less the amounts described in the Exclusions section.",
    ),
    (
        "Net Payoff",
        "the unpaid balance of your {contract} on the date of the Total Loss, excluding late "
        "charges, deferred payments, extension fees and unearned finance charges.",
    ),
    (
        "Primary Carrier",
        "the insurance company that provides physical damage coverage on the Vehicle at the "
        "time of the Total Loss.",
    ),
    (
        "Total Loss",
        "damage to or theft of the Vehicle which your Primary Carrier declares a total loss and for "
        "which it pays the Actual Cash Value.",
    ),
    ("Vehicle", "the motor vehicle described in the Vehicle Information section of this {noun}."),
    ("Lienholder", "the {creditor} or any assignee that holds the security interest in the Vehicle."),
    (
        "Scheduled Maturity Date",
        "the date of the last scheduled payment under your {contract}, without "
        "regard to any extension or deferral.",
    ),
    ("Finance Charge", "the dollar amount the credit will cost you, as disclosed in your {contract}."),
    (
        "Theft",
        "the unlawful taking of the Vehicle, reported to the police within 24 hours of discovery, that "
        "results in a Total Loss.",
    ),
    (
        "Term",
        "the period beginning on the {noun} Date and ending on the scheduled maturity date of your "
        "{contract}, not to exceed {term} months.",
    ),
    ("{admin_role}", "{admin}, the company that administers this {noun} on behalf of the {creditor}."),
)

BENEFIT_CLAUSES: tuple[str, ...] = (
    "If the Vehicle is a Total Loss during the Term, we will waive the Gap Amount owed under your "
    "{contract}, "
    "subject to the terms, conditions and exclusions of this {noun}. The maximum benefit payable under this "
    "{noun} is {max_benefit}.",
    "In the event of a Total Loss, the {creditor} agrees to cancel the portion of your debt equal to the Gap "
    "Amount. The amount cancelled will not exceed {max_benefit} or {ltv}% of the Manufacturer's Suggested "
    "Retail Price (MSRP) or the retail value of the Vehicle at the time of purchase, whichever is less.",
    "This {noun} pays the difference between what your Primary Carrier pays for the Vehicle and what you "
    "still "
    "owe on your {contract}, up to {max_benefit}.",
)

DEDUCTIBLE_CLAUSES: tuple[str, ...] = (
    "In addition, we will waive the amount of your Primary Carrier's Deductible, up to {deductible_cap}.",
    "This {noun} also includes Deductible coverage of up to {deductible_cap} when a Total Loss benefit is "
    "paid.",
    "Deductible reimbursement: the lesser of your insurance Deductible or {deductible_cap}.",
)

EXCLUSIONS: tuple[str, ...] = (
    "past due payments and any late charges or late payment fees assessed under your {contract};",
    "amounts resulting from extensions, deferrals or skipped payments;",
    "refunds of unearned charges for credit insurance, service contracts or other optional products;",
    "any amount deducted by your Primary Carrier for prior damage, salvage retention or excessive wear;",
    "a Total Loss caused by an intentional act, fraud, or the use of the Vehicle in a race or speed contest;",
    "a Total Loss occurring while the Vehicle is used for hire, as a taxi, or for commercial delivery, "
    "unless "
    "disclosed in writing;",
    "any Total Loss for which your Primary Carrier denies coverage;",
    "negative equity from a prior vehicle in excess of {neg_equity_cap};",
    "security deposits, repossession costs, and collection expenses;",
    "a Total Loss occurring after the Vehicle has been repossessed or you have surrendered it.",
)

CLAIM_CLAUSES: tuple[str, ...] = (
    "You must notify the {admin_role} of a Total Loss within {claim_days} days of the date your Primary "
    "Carrier "
    "settles its claim, by calling {admin_phone} or by writing to {admin_address}.",
    "To file a claim, you must provide: (a) a copy of this {noun}; (b) the Primary Carrier's settlement "
    "letter "
    "and valuation; (c) a payment history from the {creditor}; (d) the police report, if the loss was a "
    "theft; "
    "and (e) the Buyer's Order or bill of sale.",
    "The {admin_role} will process a complete claim within {process_days} days of receiving all required "
    "documents. Benefits are paid directly to the {creditor} and never to you.",
)

CLAIM_FEE_CLAUSES: tuple[str, ...] = (
    "A claim processing fee of {claim_fee} applies to any claim that must be re-opened because required "
    "documents were not provided within {claim_days} days.",
    "The {admin_role} may charge a claims processing fee of {claim_fee} for expedited handling of a claim at "
    "your request.",
)

GENERAL_CLAUSES: tuple[str, ...] = (
    "Any notice to us must be sent in writing to the {admin_role} at {admin_address}. Any notice to you will "
    "be sent to your last address on file with the {creditor}.",
    "Our failure to enforce any provision of this {noun} is not a waiver of our right to enforce it later.",
    "No legal action may be brought against us on this {noun} until 60 days after a complete claim has been "
    "submitted, nor more than three years after the date of the Total Loss.",
    "Personal information collected in connection with this {noun} is used only to administer it and will "
    "not be sold to third parties.",
    "This {noun} may be assigned by the {creditor} without your consent. It cannot be assigned by you.",
    "This {noun} is the entire agreement between you and us regarding the GAP benefit and may only be "
    "changed "
    "in writing signed by both parties.",
    "If any part of this {noun} is found unenforceable, the remaining parts remain in full effect.",
    "This {noun} does not change your obligation to make all payments under your {contract}. A late payment "
    "fee of {late_fee} or {late_pct}% of the unpaid installment, whichever is less, may be charged under "
    "your "
    "{contract} and is not waived by this {noun}.",
    "Coverage under this {noun} ends on the earliest of: the end of the Term; the date your {contract} is "
    "paid "
    "in full; the date the Vehicle is repossessed; or the date a Total Loss benefit is paid.",
)

IMPORTANT_NOTICES: tuple[str, ...] = (
    "IMPORTANT: THIS {NOUN} IS OPTIONAL. YOUR DECISION WHETHER OR NOT TO PURCHASE IT WILL NOT AFFECT YOUR "
    "APPLICATION FOR CREDIT OR THE TERMS OF ANY CREDIT AGREEMENT YOU HAVE WITH US.",
    "NOTICE: READ ALL OF THIS {NOUN} BEFORE SIGNING. IT LIMITS THE AMOUNT WE WILL WAIVE AND DESCRIBES WHAT "
    "IS "
    "NOT COVERED.",
    "THIS {NOUN} DOES NOT PROVIDE PHYSICAL DAMAGE OR LIABILITY INSURANCE COVERAGE FOR THE VEHICLE.",
)

ELIGIBILITY_CLAUSES: tuple[str, ...] = (
    "This {noun} is available only if the Amount Financed does not exceed {ltv}% of the MSRP (for a new "
    "Vehicle) or of the retail value shown in a nationally recognized guide (for a used Vehicle).",
    "The Vehicle must be a private passenger automobile, light truck or sport utility vehicle with a gross "
    "vehicle weight rating of 10,000 pounds or less, and must not be more than ten model years old.",
    "The term of your {contract} must not exceed 84 months. Vehicles used for commercial purposes, rental, "
    "ride sharing for more than 20 hours per week, or emergency service are not eligible.",
)

INSURANCE_CLAUSES: tuple[str, ...] = (
    "You must keep physical damage insurance on the Vehicle, with a Deductible of no more than "
    "{deductible_cap}, for as long as this {noun} is in effect.",
    "If you do not have physical damage insurance at the time of a Total Loss, we will calculate the Gap "
    "Amount as if you had been insured, and you will remain responsible for the amount your insurance would "
    "have paid.",
    "Any settlement paid by your Primary Carrier must be applied to your {contract} before a benefit is "
    "calculated under this {noun}.",
)

TRANSFER_CLAUSES: tuple[str, ...] = (
    "This {noun} cannot be transferred to another vehicle or to another person.",
    "If the Vehicle is sold or traded, coverage ends on the date of the sale or trade, and you may request "
    "that this {noun} be cancelled as described in this {noun}.",
    "If the {contract} is assigned to another lender, this {noun} remains in effect for the benefit of the "
    "assignee.",
)

LIABILITY_CLAUSES: tuple[str, ...] = (
    "Our only obligation under this {noun} is to waive the Gap Amount as described. We are not responsible "
    "for any loss of use, rental, towing, storage or other expenses.",
    "In no event will the benefit under this {noun} exceed the Net Payoff of your {contract}, and no benefit "
    "will be paid in cash to you.",
)

ARBITRATION_CLAUSES: tuple[str, ...] = (
    "Any claim or dispute arising out of this {noun} shall be resolved by neutral, binding arbitration and "
    "not "
    "by a court action, except that either party may bring an individual action in small claims court.",
    "YOU AND WE WAIVE THE RIGHT TO A JURY TRIAL AND TO PARTICIPATE IN A CLASS ACTION REGARDING ANY DISPUTE "
    "ARISING FROM THIS {NOUN}.",
)

STATE_CLAUSES: dict[str, tuple[str, ...]] = {
    "CA": (
        "CALIFORNIA: This {noun} is optional and is not required to obtain credit. You may obtain a GAP "
        "product from a source of your choice. The {creditor} may not condition the extension of credit on "
        "your purchase of this {noun}.",
    ),
    "NY": (
        "NEW YORK: This {noun} is a debt cancellation contract and is not insurance. Complaints may be "
        "directed to the New York State Department of Financial Services.",
    ),
    "TX": (
        "TEXAS: A GAP waiver is not insurance. The {creditor} may not require you to purchase this waiver "
        "as a "
        "condition of credit, and the waiver is governed by the laws of the State of Texas.",
    ),
    "FL": (
        "FLORIDA: This {noun} is not insurance coverage. Questions or complaints may be directed to the "
        "Florida Department of Financial Services.",
    ),
    "WA": (
        "WASHINGTON: You may have the right to cancel this {noun}. Contact the Washington State Office of "
        "the "
        "Insurance Commissioner with any questions or complaints.",
    ),
    "IL": (
        "ILLINOIS: The purchase of this {noun} is not a factor in the approval of your credit. Complaints "
        "may "
        "be made to the Illinois Department of Financial and Professional Regulation.",
    ),
}

GENERIC_STATE_CLAUSES: tuple[str, ...] = (
    "{STATE} RESIDENTS: The purchase of this {noun} is voluntary and not required as a condition of "
    "financing. This {noun} is governed by the laws of the State of {state}.",
    "{STATE}: If you have questions or a complaint about this {noun}, you may contact the {state} Department "
    "of Insurance or the office that regulates consumer credit in {state}.",
    "NOTICE TO {STATE} BUYERS: The terms of this {noun} will be interpreted in accordance with the laws of "
    "{state}. Any provision that conflicts with {state} law is amended to conform to that law.",
)

# ---- the three fields -------------------------------------------------------------------------------
# Premium clauses: "{P}" is the amount in digits ("$1,250.00"), "{PW}" in words.

PREMIUM_LINE_CLAUSES: tuple[str, ...] = (
    "{label}: {P}",
    "{label} (included in the Amount Financed): {P}",
    "Total {label}: {P}",
)
PREMIUM_SENTENCE_CLAUSES: tuple[str, ...] = (
    "The price of this {noun} is {P}.",
    "You agree to pay {P} for this {noun}. The {label} is included in the Amount Financed of your "
    "{contract}.",
    "The {label} for this {noun} is {P}, payable in full at the time of sale.",
    "The total {label} for the Term of this {noun} is {P}.",
)
PREMIUM_WORDS_AND_DIGITS_CLAUSES: tuple[str, ...] = (
    "The {label} for this {noun} is {PW} ({P}).",
    "In consideration of the waiver provided, you agree to pay the sum of {PW} ({P}), which is included in "
    "the "
    "Amount Financed.",
    "The price of this {noun} is {PW} ({P}) and is non-negotiable after the {noun} Date.",
)
PREMIUM_WORDS_ONLY_CLAUSES: tuple[str, ...] = (
    "The amount of the {label} for this {noun} is {PW}, payable in full at the time of sale and included in "
    "the Amount Financed.",
    "In consideration of the benefits described herein, the {buyer} agrees to pay {PW} as the {label} for "
    "this {noun}.",
    "You have agreed to pay {PW} for this {noun}, which has been added to the amount you financed.",
)
PREMIUM_RESTATEMENT_CLAUSES: tuple[str, ...] = (
    "The {label} of {P} shown on page 1 is fully earned only at the end of the Term.",
    "Refunds are based on the {label} of {P} paid for this {noun}.",
)

# Method clauses. "Unknown" has vague wording that names no method (or the section says nothing at all).
METHOD_CLAUSES: dict[str, tuple[str, ...]] = {
    "Pro-Rata": (
        "If this {noun} is cancelled, the unearned portion of the {label} will be refunded on a pro rata "
        "basis.",
        "Any refund of the {label} will be calculated in proportion to the number of days remaining in the "
        "Term of this {noun}.",
        "The refund will be computed using the pro rata method, based on the number of unexpired days "
        "divided by the total number of days in the Term.",
        "Refunds are calculated pro rata: the {label} multiplied by the number of full months remaining in "
        "the Term, divided by the total number of months in the Term.",
        "You will receive a refund of the unearned {label}, prorated according to the number of days "
        "remaining until the scheduled maturity date of your {contract}.",
        "The unearned {label} will be refunded on a pro-rata basis.",
    ),
    "Rule of 78s": (
        "Any refund of the {label} will be calculated using the Rule of 78s.",
        "The unearned portion of the {label} will be computed by the sum of the digits method (also known as "
        "the Rule of 78s).",
        "Refunds are determined by the 78ths method, under which a larger share of the {label} is earned in "
        "the early months of the Term.",
        "The refund shall be calculated according to the Rule of 78s as of the cancellation date.",
        "Unearned charges will be refunded using the sum-of-the-digits method.",
    ),
    "Actuarial": (
        "The refund will be calculated using the actuarial method.",
        "Any refund of the {label} will be computed according to the actuarial method, the same method used "
        "to compute unearned finance charges on your {contract}.",
        "The unearned {label} will be determined by the actuarial method, based on the scheduled declining "
        "balance of your {contract}.",
        "Refunds are computed in accordance with the actuarial method of computing unearned interest.",
    ),
    "Short-Rate": (
        "Any refund of the {label} will be calculated according to the short-rate table below.",
        "The unearned {label} will be refunded on a short-rate basis.",
        "If you cancel, the refund will be computed using the short-rate table below, which retains a larger "
        "portion of the {label} in the early months of the Term.",
        "Refunds are calculated according to the {admin_role}'s short-rate table, a copy of which is "
        "available "
        "on request.",
    ),
    "Unknown": (
        "Any refund will be calculated in accordance with applicable law.",
        "The amount of any refund will be determined by the {admin_role} in accordance with its refund "
        "procedures.",
        "Refunds, if any, will be made as required by the laws of the state in which this {noun} was sold.",
        "If you are entitled to a refund, it will be calculated by the {admin_role} as of the date the "
        "{admin_role} receives your request.",
    ),
}

# Fee clauses. "{fee}" is "$50.00", "{fee_short}" is "$50".
FEE_SENTENCE_CLAUSES: tuple[str, ...] = (
    "A {fee_short} cancellation fee will be retained by the {admin_role}.",
    "The refund will be reduced by an administrative fee of {fee}.",
    "A cancellation fee of {fee} will be deducted from any refund.",
    "The {creditor} may charge a cancellation fee of {fee}, which will be deducted from your refund.",
    "All refunds are subject to a {fee} administrative fee.",
    "A refund processing fee of {fee} will be subtracted from the refund amount.",
)
FEE_SUFFIX_CLAUSES: tuple[str, ...] = (
    ", less an administrative fee of {fee}",
    ", less a {fee_short} cancellation fee",
    ", minus a cancellation fee of {fee}",
)
NO_FEE_SENTENCE_CLAUSES: tuple[str, ...] = (
    "No cancellation fee will be charged.",
    "You may cancel this {noun} at any time without any fee or penalty.",
    "There is no fee to cancel this {noun}.",
    "The {creditor} will not charge a cancellation or administrative fee.",
    "No administrative or cancellation fee applies to any refund.",
)
NO_FEE_SUFFIX_CLAUSES: tuple[str, ...] = (
    ", without any fee or penalty",
    ", and no cancellation fee will be charged",
)
FEE_IN_RIDER_POINTERS: tuple[str, ...] = (
    "Any fee that applies on cancellation is stated in the State-Specific Disclosures below.",
    "The refund may be reduced as described in the state disclosure for your state.",
)
FEE_RIDER_CLAUSES: tuple[str, ...] = (
    "{STATE} CANCELLATION RIDER: Upon cancellation of this {noun}, a cancellation fee of {fee} will be "
    "deducted from the refund, where permitted by {state} law.",
    "{STATE}: The administrative fee for cancellation of this {noun} is {fee}.",
)
NO_FEE_RIDER_CLAUSES: tuple[str, ...] = (
    "{STATE}: No cancellation fee will be charged to {state} residents.",
    "{STATE} CANCELLATION RIDER: {state} residents may cancel without any fee or penalty.",
)

CANCEL_RIGHT_CLAUSES: tuple[str, ...] = (
    "You may cancel this {noun} at any time by giving written notice to the {admin_role} or the {creditor}.",
    "You may cancel this {noun} by sending a signed cancellation request to {admin}, {admin_address}.",
    "This {noun} may be cancelled by you at any time by written request.",
)
FREE_LOOK_CLAUSES: tuple[str, ...] = (
    "If you cancel within {free_days} days after the {noun} Date and no benefit has been paid, you will "
    "receive a full refund of the {label}.",
    "FREE LOOK: You may return this {noun} within {free_days} days of purchase for a full refund, provided "
    "no claim has been filed.",
)
PAYOFF_CLAUSES: tuple[str, ...] = (
    "This {noun} terminates automatically if your {contract} is paid in full before its scheduled maturity "
    "date, and you may then be entitled to a refund.",
    "If you pay off your {contract} early, sell or trade the Vehicle, or refinance, you may request a refund "
    "of the unearned {label}.",
)
NO_REFUND_AFTER_CLAIM_CLAUSES: tuple[str, ...] = (
    "No refund will be made if a Total Loss benefit has been paid under this {noun}.",
    "If a benefit has been paid, the {label} is fully earned and no refund is due.",
)
REFUND_PAYEE_CLAUSES: tuple[str, ...] = (
    "If the {contract} has not been paid in full, the refund will be credited to your account with the "
    "{creditor}.",
    "Refunds are paid to the lienholder first, and any remaining amount is paid to you.",
    "The refund will be paid within 30 days after the {admin_role} receives your request.",
)

STREETS: tuple[str, ...] = (
    "Main Street",
    "Commerce Drive",
    "Auto Mall Parkway",
    "Industrial Boulevard",
    "Highway 290 West",
    "Market Street",
    "Motor Parkway",
    "Veterans Memorial Highway",
    "Frontage Road",
    "Oak Street",
    "Dealer Row",
    "Interstate Drive",
    "Lincoln Avenue",
    "Route 9",
    "Airport Road",
    "Harbor Boulevard",
)
EMPLOYEE_TITLES: tuple[str, ...] = ("F&I Manager", "Finance Manager", "Business Manager", "General Manager")

COMPACT_STATE_NOTES: tuple[str, ...] = (
    "{STATE} RESIDENTS: Purchase of this {noun} is optional and not required to obtain credit.",
    "This {noun} is governed by the laws of the State of {state}.",
    "{STATE}: This {noun} is not insurance and is governed by {state} law.",
    "Questions or complaints: {state} Department of Insurance.",
)

# ---- compact mode -----------------------------------------------------------------------------------
# One-page contracts for the scale seeder, filled with the % operator from a dict (the fastest way to
# fill thirty fields in CPython). Each entry: (family index into FAMILIES, label, form code, text).

PARTY_FORMATS: dict[str, str] = {
    "retail_installment": "Buyer: %(customer)s    Dealer/Creditor: %(dealer)s, %(city)s, %(st)s\n"
    "Assignee: %(lender)s",
    "balloon": "Buyer: %(customer)s    Dealer/Creditor: %(dealer)s, %(city)s, %(st)s\nAssignee: %(lender)s",
    "lease": "Lessee: %(customer)s    Lessor: %(dealer)s, %(city)s, %(st)s\nLessor's Assignee: %(lender)s",
    "refinance": "Borrower: %(customer)s\nLender: %(lender)s    Branch: %(city)s, %(st)s",
}

COMPACT_TEMPLATES: tuple[tuple[int, str, str, str], ...] = (
    (
        0,
        "GAP Waiver Charge",
        "GW-100",
        "GUARANTEED ASSET PROTECTION (GAP) WAIVER ADDENDUM\n"
        "Contract No. %(cid)s    Date: %(date)s    Account No. %(acct)s\n"
        "%(parties)s\n"
        "VEHICLE: %(vyear)s %(make)s %(model)s %(trim)s, %(color)s, VIN %(vin)s, odometer %(miles)s miles "
        "(%(cond)s)\n"
        "Term: %(term)s months    Amount Financed: %(af)s    Maximum Benefit: %(maxb)s\n"
        "After a Total Loss we waive what your insurer does not pay on your %(contract)s.\n"
        "%(premium)s\n"
        "CANCELLATION AND REFUNDS: You may cancel this Addendum at any time.%(method)s%(fee)s\n"
        "%(state_note)s\n"
        "Administrator: %(admin)s, %(admin_phone)s    Form %(form)s",
    ),
    (
        1,
        "Debt Cancellation Fee",
        "DCA-200",
        "DEBT CANCELLATION AGREEMENT\n"
        "Agreement No. %(cid)s | Account %(acct)s | Dated %(date_long)s\n"
        "%(parties)s\n"
        "Vehicle Year/Make/Model: %(vyear)s %(make)s %(model)s\n"
        "Trim: %(trim)s   Color: %(color)s   Mileage: %(miles)s   %(cond)s vehicle\n"
        "VIN: %(vin)s\n"
        "1. BENEFIT. After a Total Loss we cancel the Gap Amount owed on your %(contract)s, up to %(maxb)s.\n"
        "2. CHARGE. %(premium)s\n"
        "3. CANCELLATION. This Agreement may be cancelled by you at any time.%(method)s%(fee)s\n"
        "4. STATE LAW. %(state_note)s\n"
        "Administered by %(admin)s. Questions: %(admin_phone)s. Form %(form)s",
    ),
    (
        2,
        "GAP Insurance Premium",
        "GIC-300",
        "GAP INSURANCE CERTIFICATE\n"
        "Certificate No. %(cid)s    Effective Date: %(date)s\n"
        "Account No.: %(acct)s    Term: %(term)s months\n"
        "%(parties)s\n"
        "Insured Vehicle: %(vyear)s %(make)s %(model)s %(trim)s (%(cond)s)\n"
        "VIN %(vin)s; %(miles)s miles at issue; color %(color)s\n"
        "COVERAGE: Pays what you owe on your %(contract)s after your insurer settles a total loss, up to "
        "%(maxb)s.\n"
        "PREMIUM: %(premium)s\n"
        "CANCELLATION: The certificate holder may cancel this coverage at any time.%(method)s%(fee)s\n"
        "%(state_note)s\n"
        "Claims Administrator: %(admin)s, %(admin_phone)s    Form %(form)s",
    ),
    (
        0,
        "GAP Charge",
        "GW-410",
        "GAP WAIVER ADDENDUM TO %(contract_upper)s\n"
        "Contract %(cid)s  *  Date %(date)s  *  Account %(acct)s\n"
        "%(parties)s\n"
        "Vehicle: %(cond)s %(vyear)s %(make)s %(model)s %(trim)s  VIN: %(vin)s  Miles: %(miles)s  "
        "Color: %(color)s\n"
        "Amount Financed: %(af)s over %(term)s months.\n"
        "This Addendum waives the GAP Amount after a total loss of the Vehicle, up to %(maxb)s.\n"
        "%(premium)s\n"
        "Refund of charge: If you cancel or pay off early, you may be entitled to a "
        "refund.%(method)s%(fee)s\n"
        "%(state_note)s\n"
        "%(admin)s administers this Addendum (%(admin_phone)s). Form %(form)s",
    ),
    (
        0,
        "GAP Waiver Price",
        "GW-520",
        "GUARANTEED ASSET PROTECTION WAIVER\n"
        "---------------------------------------------\n"
        "Contract Number: %(cid)s\n"
        "Contract Date:   %(date)s\n"
        "Account Number:  %(acct)s\n"
        "%(parties)s\n"
        "Vehicle:         %(vyear)s %(make)s %(model)s %(trim)s\n"
        "VIN:             %(vin)s\n"
        "Odometer:        %(miles)s (%(cond)s)\n"
        "Exterior Color:  %(color)s\n"
        "---------------------------------------------\n"
        "%(premium)s\n"
        "Maximum waiver benefit %(maxb)s. Term %(term)s months.\n"
        "EARLY TERMINATION. This Addendum ends if the Vehicle is sold or the debt is paid "
        "off.%(method)s%(fee)s\n"
        "%(state_note)s\n"
        "%(admin)s, %(admin_phone)s. Form %(form)s",
    ),
    (
        1,
        "Debt Cancellation Charge",
        "DCA-630",
        "DEBT CANCELLATION AGREEMENT\n"
        "to %(contract)s %(cid)s dated %(date_long)s (Account %(acct)s)\n"
        "%(parties)s\n"
        "Covered Vehicle: %(vin)s / %(vyear)s %(make)s %(model)s %(trim)s / %(color)s / %(miles)s mi / "
        "%(cond)s\n"
        "We agree to cancel the balance still owing after your insurer settles a Total Loss, up to "
        "%(maxb)s.\n"
        "CHARGE FOR THIS AGREEMENT. %(premium)s\n"
        "IF YOU CANCEL. You may cancel this Agreement at any time by writing to the Administrator."
        "%(method)s%(fee)s\n"
        "%(state_note)s\n"
        "Administrator: %(admin)s; telephone %(admin_phone)s. Form %(form)s",
    ),
)
