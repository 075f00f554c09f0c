"""The demo community's people: households at structured addresses, the families
living in them, their ID numbers, phones and tags."""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from server.commands.households import join_address
from server.demo.words import (
    GIVEN_NAMES,
    GRIDS,
    HOME_AREA,
    HOUSEHOLD_NOTES,
    MOBILE_PREFIXES,
    MOVED_OUT_NOTES,
    OTHER_AREAS,
    SURNAMES,
    VACANT_NOTES,
    EstateSpec,
    GridSpec,
)
from server.models import utcnow
from server.people import idnumber
from server.people.vault import Vault

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

TEMPLATES = (
    "elderly_single",
    "elderly_couple",
    "middle_couple",
    "single_adult",
    "young_couple",
    "nuclear",
    "three_gen",
    "skipped_gen",  # grandparents raising grandchildren whose parents work elsewhere
)
# How often each family shape turns up, in old estates and in new ones.
WEIGHTS = {"old": (20, 26, 10, 4, 4, 14, 14, 10), "new": (8, 12, 9, 5, 11, 32, 17, 6)}
SURNAME_WEIGHTS = [len(SURNAMES) - i for i in range(len(SURNAMES))]


@dataclass
class Person:
    id: uuid.UUID
    name: str
    sex: str
    born: date
    age: int
    relation: str
    number: str
    phone: str = ""
    notes: str = ""
    tags: set[str] = field(default_factory=set)


@dataclass
class Home:
    id: uuid.UUID
    grid: str
    estate: str
    building: str
    unit: str
    room: str
    kind: str
    status: str
    lat: float
    lng: float
    template: str = ""
    people: list[Person] = field(default_factory=list)
    phone: str = ""
    notes: str = ""

    @property
    def tags(self) -> set[str]:
        return set().union(*(p.tags for p in self.people))

    @property
    def address(self) -> str:
        return join_address(self.estate, self.building, self.unit, self.room)


class People:
    def __init__(
        self, *, rng_seed: int, vault: Vault, community_id: uuid.UUID, grid_ids: dict[str, uuid.UUID]
    ) -> None:
        # Made-up demo people, reproducible by seed: no secret in it.
        self.rng = random.Random(rng_seed)  # nosec B311
        self.vault = vault
        self.community_id = community_id
        self.grid_ids = grid_ids
        self.now = utcnow()
        self.today = self.now.astimezone(CHINA).date()
        self._numbers: set[str] = set()
        self._phones: set[str] = set()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def build(self, usable_tags: set[str]) -> list[Home]:
        homes: list[Home] = []
        for grid in GRIDS:
            grid_homes = self._grid_homes(grid)
            for home in grid_homes:
                self._tag_home(home)
            self._tag_helpers(grid_homes)
            homes += grid_homes
        for home in homes:
            for person in home.people:
                person.tags &= usable_tags
        return homes

    def rows(self, homes: list[Home]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Table rows, without versions."""
        households: list[dict[str, Any]] = []
        residents: list[dict[str, Any]] = []
        for home in homes:
            grid_id = self.grid_ids[home.grid]
            # Registered some time ago: before any visit recorded at the door.
            registered = self.now - timedelta(
                days=self.rng.randint(120, 1000), minutes=self.rng.randint(0, 600)
            )
            households.append(
                base_row(home.id, registered)
                | {
                    "community_id": self.community_id,
                    "grid_id": grid_id,
                    "estate": home.estate,
                    "building": home.building,
                    "unit": home.unit,
                    "room": home.room,
                    "address": home.address,
                    "kind": home.kind,
                    "status": home.status,
                    "phone": home.phone,
                    "notes": home.notes,
                    "lat": home.lat,
                    "lng": home.lng,
                }
            )
            for person in home.people:
                residents.append(
                    base_row(person.id, registered)
                    | {
                        "household_id": home.id,
                        "community_id": self.community_id,
                        "grid_id": grid_id,
                        "name": person.name,
                        "relation": person.relation,
                        "id_cipher": self.vault.encrypt(person.number),
                        "id_hash": self.vault.keyed_hash(person.number),
                        "id_masked": idnumber.mask(person.number),
                        "birth_date": person.born,
                        "sex": person.sex,
                        "phone": person.phone,
                        "notes": person.notes,
                        "tags": sorted(person.tags),
                    }
                )
        return households, residents

    # Households -----------------------------------------------------------

    def _grid_homes(self, grid: GridSpec) -> list[Home]:
        target = self.rng.randint(398, 412)
        first = round(target * self.rng.uniform(0.48, 0.58))
        homes: list[Home] = []
        for index, (estate, count) in enumerate(zip(grid.estates, (first, target - first), strict=True)):
            homes += self._estate_homes(grid, index, estate, count)
        return homes

    def _estate_homes(self, grid: GridSpec, index: int, estate: EstateSpec, count: int) -> list[Home]:
        rng = self.rng
        low, high = estate.floors
        per_building = estate.units * (low + high) / 2 * estate.rooms_per_floor
        buildings = math.ceil(count * 1.15 / per_building)
        centre_lat = grid.lat + (0.0011 if index == 0 else -0.0012) + rng.uniform(-0.0003, 0.0003)
        centre_lng = grid.lng + (-0.0012 if index == 0 else 0.0004) + rng.uniform(-0.0003, 0.0003)
        slots: list[tuple[int, int, int, int, float, float]] = []
        for b in range(1, buildings + 1):
            floors = rng.randint(low, high)
            lat = round(centre_lat + ((b - 1) // 4) * 0.00035, 6)
            lng = round(centre_lng + ((b - 1) % 4) * 0.0004, 6)
            for u in range(1, estate.units + 1):
                for f in range(1, floors + 1):
                    for r in range(1, estate.rooms_per_floor + 1):
                        slots.append((b, u, f, r, lat, lng))
        homes = []
        for b, u, f, r, lat, lng in sorted(rng.sample(slots, min(count, len(slots)))):
            home = Home(
                id=self.new_id(),
                grid=grid.code,
                estate=estate.name,
                building=f"{b}栋",
                unit=f"{u}单元",
                room=f"{f}0{r}室",
                kind=self._kind(estate),
                status="active",
                lat=lat,
                lng=lng,
            )
            self._settle(home, estate)
            homes.append(home)
        return homes

    def _kind(self, estate: EstateSpec) -> str:
        if self.rng.random() < estate.rental_share:
            return "rental"
        return self.rng.choices(("registered", "resident", "floating"), (62, 22, 16))[0]

    def _settle(self, home: Home, estate: EstateSpec) -> None:
        rng = self.rng
        roll = rng.random()
        empty = 0.10 if home.kind == "rental" else 0.06
        if roll < empty:
            home.status = "vacant"
            home.notes = rng.choice(VACANT_NOTES)
            home.phone = self._mobile() if rng.random() < 0.6 else ""
            return
        if roll < empty + 0.03:
            home.status = "moved_out"
            home.notes = rng.choice(MOVED_OUT_NOTES)
            return
        home.template, members = self._family(home.kind, estate.profile)
        self._people(home, members)
        home.phone = next((p.phone for p in home.people if p.phone), "")
        if rng.random() < 0.1:
            home.notes = rng.choice(HOUSEHOLD_NOTES)

    # Families ---------------------------------------------------------------

    def _family(self, kind: str, profile: str) -> tuple[str, list[tuple[str, str, int]]]:
        rng = self.rng
        choices: tuple[str, ...]
        weights: tuple[int, ...]
        if kind == "rental":
            choices, weights = ("roommates", "young_couple", "nuclear", "single_adult"), (35, 30, 20, 15)
        elif kind == "floating":
            choices, weights = ("single_adult", "young_couple", "nuclear", "three_gen"), (25, 25, 40, 10)
        else:
            choices, weights = TEMPLATES, WEIGHTS[profile]
        template = rng.choices(choices, weights)[0]
        return template, self._members(template, kind)

    def _elder(self) -> int:
        return 65 + int(self.rng.triangular(0, 31, 4))

    def _couple(self, age: int, *, male_head: bool | None = None) -> list[tuple[str, str, int]]:
        rng = self.rng
        male = rng.random() < 0.85 if male_head is None else male_head
        gap = rng.randint(-1, 5)
        wife, husband = (age - gap, age) if male else (age, age + gap)
        if male:
            return [("head", "male", husband), ("spouse", "female", max(wife, 20))]
        return [("head", "female", wife), ("spouse", "male", husband)]

    def _children(self, parent_age: int, count: int, relation: str = "child") -> list[tuple[str, str, int]]:
        rng = self.rng
        gaps = [rng.randint(2, 6) for _ in range(count - 1)]
        first = max(parent_age - rng.randint(24, 33), sum(gaps) + rng.randint(0, 2))
        ages = [first - sum(gaps[:i]) for i in range(count)]
        return [(relation, rng.choice(("male", "female")), a) for a in ages]

    def _members(self, template: str, kind: str) -> list[tuple[str, str, int]]:
        rng = self.rng
        sex = rng.choice(("male", "female"))
        if template == "elderly_single":
            return [("head", "female" if rng.random() < 0.65 else "male", self._elder())]
        if template == "elderly_couple":
            return self._couple(self._elder(), male_head=True)
        if template == "middle_couple":
            return self._couple(rng.randint(50, 64))
        if template == "single_adult":
            return [("tenant" if kind == "rental" else "head", sex, rng.randint(22, 60))]
        if template == "young_couple":
            return self._couple(rng.randint(23, 36))
        if template == "roommates":
            return [("tenant", sex, rng.randint(19, 35)) for _ in range(rng.randint(2, 4))]
        if template == "nuclear":
            age = rng.randint(28, 50)
            return self._couple(age) + self._children(age, rng.choice((1, 2, 2)))
        if template == "three_gen":
            age = rng.randint(30, 52)
            kids = rng.choice((1, 2, 2))
            father = min(age + rng.randint(24, 32), 96)
            parents = [("parent", "male", father), ("parent", "female", father - rng.randint(0, 5))]
            parents = parents if kids == 1 and rng.random() < 0.4 else [rng.choice(parents)]
            return self._couple(age, male_head=True) + self._children(age, kids) + parents
        # skipped_gen
        age = rng.randint(58, 78)
        return self._couple(age, male_head=True) + self._children(
            rng.randint(26, 40), rng.choice((1, 2, 2)), "grandchild"
        )

    def _people(self, home: Home, members: list[tuple[str, str, int]]) -> None:
        rng = self.rng
        family = self._surname()
        head_sex = members[0][1]
        spouse = self._surname() if any(m[0] == "spouse" for m in members) else family
        line = family if head_sex == "male" else spouse
        local = home.kind in ("registered", "resident") or (home.kind == "rental" and rng.random() < 0.4)
        area = HOME_AREA if local and rng.random() < 0.95 else rng.choice(OTHER_AREAS)
        names: set[str] = set()
        for relation, sex, age in members:
            if relation == "head":
                surname = family
            elif relation == "spouse":
                surname = spouse
            elif relation in ("child", "grandchild"):
                surname = line
            elif relation == "parent" and sex == "male" and head_sex == "male":
                surname = family
            else:
                surname = self._surname()
            if relation == "tenant":  # roommates come from anywhere
                area = HOME_AREA if rng.random() < 0.4 else rng.choice(OTHER_AREAS)
            person = self._person(relation, sex, age, surname, area, names)
            names.add(person.name)
            home.people.append(person)

    def _person(self, relation: str, sex: str, age: int, surname: str, area: str, taken: set[str]) -> Person:
        rng = self.rng
        born = self.today - timedelta(days=age * 365 + age // 4 + rng.randint(0, 364))
        born = max(born, date(1900, 1, 1))
        name = surname + self._given(born.year, sex)
        while name in taken:
            name = surname + self._given(born.year, sex)
        real_age = idnumber.age_on(born, self.today)
        has_phone = real_age >= 18 and rng.random() < (0.9 if real_age < 75 else 0.5)
        has_phone = has_phone or (14 <= real_age < 18 and rng.random() < 0.3)
        return Person(
            id=self.new_id(),
            name=name,
            sex=sex,
            born=born,
            age=real_age,
            relation=relation,
            number=self._id_number(area, born, sex),
            phone=self._mobile() if has_phone else "",
        )

    def _surname(self) -> str:
        return self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]

    def _given(self, year: int, sex: str) -> str:
        for until, male, female in GIVEN_NAMES:
            if year <= until:
                return self.rng.choice(male if sex == "male" else female)
        raise AssertionError("GIVEN_NAMES ends with an open generation")

    def _id_number(self, area: str, born: date, sex: str) -> str:
        """A valid, unused number; the sequence is odd for men and even for women (GB 11643)."""
        while True:
            sequence = self.rng.randrange(1, 1000, 2) if sex == "male" else self.rng.randrange(2, 1000, 2)
            number = idnumber.make(area, born, sequence)
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def _mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    # Tags -----------------------------------------------------------------------

    def _tag_home(self, home: Home) -> None:
        if not home.people:
            return
        for person in home.people:
            self._tag_person(home, person)
        rng = self.rng
        head = home.people[0]
        native = home.kind in ("registered", "resident")
        if native and rng.random() < (0.12 if home.template == "elderly_single" else 0.03):
            head.tags |= {"subsistence", "hardship"}
        elif rng.random() < 0.02:
            head.tags.add("hardship")
        if "elderly_alone" in head.tags and rng.random() < 0.06:
            head.tags |= {"extreme_poverty", "hardship"}
        for person in home.people:
            tags = person.tags
            if tags & {"mental_disorder", "community_correction"} or (
                "elderly_alone" in tags and tags & {"very_old", "serious_illness"}
            ):
                tags.add("key_attention")
            if "mobility_impaired" in tags and rng.random() < 0.5:
                person.notes = "行动不便，办事需上门。"

    def _tag_person(self, home: Home, person: Person) -> None:
        # In this order: the seed's random draws come in the same sequence every time.
        self._tag_health(home, person)
        self._tag_roles(home, person)
        self._tag_life(home, person)

    def _tag_health(self, home: Home, person: Person) -> None:
        rng = self.rng
        age, male, tags = person.age, person.sex == "male", person.tags
        if home.template == "elderly_single" and age >= 65:
            tags.add("elderly_alone")
        if home.template == "elderly_couple" and age >= 60:
            tags.add("empty_nest")
        if age >= 80:
            tags.add("very_old")
        if age >= 75 and rng.random() < 0.2:
            tags.add("mobility_impaired")
        if rng.random() < (0.35 if age >= 60 else 0.08 if age >= 40 else 0):
            tags.add("chronic_disease")
        if age >= 18 and rng.random() < (0.03 if age >= 60 else 0.01):
            tags.add("serious_illness")
        if rng.random() < (0.06 if age >= 70 else 0.02):
            tags.add("disabled")
        if 18 <= age <= 70 and rng.random() < 0.005:
            tags.add("mental_disorder")
        if male and 20 <= age <= 55 and home.kind in ("registered", "resident") and rng.random() < 0.004:
            tags.add("community_correction")

    def _tag_roles(self, home: Home, person: Person) -> None:
        rng = self.rng
        age, male, tags = person.age, person.sex == "male", person.tags
        if age >= 22 and rng.random() < (0.2 if age >= 60 and male else 0.08):
            tags.add("floating_party_member" if home.kind == "floating" else "party_member")
            if age >= 70 and rng.random() < 0.35:
                tags.add("three_elders")
        if male and 25 <= age <= 85 and rng.random() < 0.03:
            tags.add("veteran")
            if age >= 60 and rng.random() < 0.4:
                tags.add("special_care")
        if 20 <= age <= 45:
            roll, rider = rng.random(), (0.12 if home.kind in ("rental", "floating") else 0.04)
            if male and roll < rider:
                tags |= {"delivery_rider", "new_employment"}
            elif roll < rider + 0.03:
                tags |= {"courier", "new_employment"}
            elif male and age >= 25 and roll < rider + 0.06:
                tags |= {"ride_hailing_driver", "new_employment"}
        if 20 <= age <= 59 and "new_employment" not in tags and rng.random() < 0.04:
            tags.add("unemployed")

    def _tag_life(self, home: Home, person: Person) -> None:
        rng = self.rng
        age, male, tags = person.age, person.sex == "male", person.tags
        if not male and 15 <= age <= 49:
            tags.add("childbearing_age")
            if 22 <= age <= 38 and person.relation in ("head", "spouse") and rng.random() < 0.05:
                tags.add("pregnant")
        if 18 <= age <= 72 and rng.random() < (0.3 if "party_member" in tags else 0.04):
            tags.add("volunteer")
        if home.kind == "rental":
            tags.add("tenant")
        if home.kind == "floating":
            tags.add("floating_population")
        if home.template == "skipped_gen" and person.relation == "grandchild" and age < 16:
            tags.add("orphan" if rng.random() < 0.04 else "left_behind_child")

    def _tag_helpers(self, homes: list[Home]) -> None:
        """Building and unit leaders, party member households, residents' representatives."""
        rng = self.rng
        buildings: dict[tuple[str, str], list[Person]] = defaultdict(list)
        units: dict[tuple[str, str, str], list[Person]] = defaultdict(list)
        for home in homes:
            for person in home.people:
                if 35 <= person.age <= 72 and home.kind != "rental":
                    buildings[home.estate, home.building].append(person)
                    units[home.estate, home.building, home.unit].append(person)
        for group, tag in ((buildings, "building_leader"), (units, "unit_leader")):
            for candidates in group.values():
                free = [p for p in candidates if not p.tags & {"building_leader", "unit_leader"}]
                party = [p for p in free if "party_member" in p.tags]
                if free:
                    rng.choice(party if party and rng.random() < 0.6 else free).tags.add(tag)
        for estate in sorted({h.estate for h in homes}):
            in_estate = [h for h in homes if h.estate == estate and h.people]
            heads = [h.people[0] for h in in_estate if "party_member" in h.people[0].tags]
            for head in rng.sample(heads, min(3, len(heads))):
                head.tags.add("party_center_household")
            adults = [p for h in in_estate for p in h.people if 35 <= p.age <= 70]
            for person in rng.sample(adults, min(3, len(adults))):
                person.tags.add("resident_representative")


def base_row(row_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    """The columns every syncable row has; the version is set when the rows are inserted."""
    return {
        "id": row_id,
        "version": 0,
        "created_at": at,
        "updated_at": at,
        "deleted_at": None,
        "field_versions": {},
    }
