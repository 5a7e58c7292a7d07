"""Word lists the generator draws believable Spanish customers and places from."""

from __future__ import annotations

__all__ = ["FIRST_NAMES_F", "FIRST_NAMES_M", "LAST_NAMES", "STREETS", "LOCAL_CITIES",
           "NATIONAL_CITIES", "EMAIL_DOMAINS"]

FIRST_NAMES_F = (
    "María", "Carmen", "Ana", "Laura", "Lucía", "Marta", "Paula", "Elena", "Sara", "Cristina",
    "Isabel", "Pilar", "Rosa", "Julia", "Irene", "Alba", "Nuria", "Raquel", "Sofía", "Andrea",
    "Beatriz", "Silvia", "Patricia", "Rocío", "Lorena", "Inés", "Claudia", "Noelia", "Eva", "Sonia",
)
FIRST_NAMES_M = (
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos",
    "Jesús", "Alejandro", "Miguel", "Rafael", "Pablo", "Pedro", "Ángel", "Sergio", "Fernando",
    "Jorge", "Luis", "Alberto", "Álvaro", "Adrián", "Diego", "Raúl", "Iván", "Rubén", "Óscar",
    "Andrés", "Hugo",
)
LAST_NAMES = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
    "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
    "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido",
    "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto",
)
STREETS = (
    "Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle Ancha",
    "Paseo de San Gregorio",
    "Calle Aduana", "Calle Cruces", "Avenida Primero de Mayo", "Calle Toledo", "Calle Alfonso X",
    "Plaza de España", "Calle del Prado", "Calle Ramón y Cajal", "Avenida de Andalucía",
    "Calle Goya", "Calle Cervantes", "Ronda de Alarcos", "Calle Libertad", "Calle Nueva",
    "Calle de la Paz",
)
# (city, first postal code, number of postal codes, weight)
LOCAL_CITIES = (
    ("Puertollano", 13500, 1, 0.62), ("Ciudad Real", 13001, 5, 0.12),
    ("Argamasilla de Calatrava", 13440, 1, 0.06), ("Almodóvar del Campo", 13580, 1, 0.06),
    ("Villamayor de Calatrava", 13591, 1, 0.03), ("Brazatortas", 13592, 1, 0.03),
    ("Mestanza", 13593, 1, 0.02), ("Cabezarados", 13594, 1, 0.02),
    ("Hinojosas de Calatrava", 13595, 1, 0.02), ("Almadén", 13400, 1, 0.02),
)
NATIONAL_CITIES = (
    ("Madrid", 28001, 50, 0.24), ("Barcelona", 8001, 40, 0.16), ("Valencia", 46001, 25, 0.08),
    ("Sevilla", 41001, 20, 0.07), ("Zaragoza", 50001, 18, 0.05), ("Málaga", 29001, 18, 0.05),
    ("Murcia", 30001, 12, 0.04), ("Palma", 7001, 12, 0.04), ("Bilbao", 48001, 15, 0.04),
    ("Alicante", 3001, 10, 0.04), ("Córdoba", 14001, 10, 0.03), ("Valladolid", 47001, 10, 0.03),
    ("Vigo", 36201, 8, 0.03), ("Gijón", 33201, 8, 0.02), ("Granada", 18001, 10, 0.03),
    ("Ciudad Real", 13001, 5, 0.02), ("Puertollano", 13500, 1, 0.02),
)
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "telefonica.net")
