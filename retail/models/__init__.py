"""The POS core's tables, one module per concept."""

from retail.models.catalogue import Product, StockLevel, StockMove, TaxRate
from retail.models.customers import Customer, CustomerType, GiftCard
from retail.models.fulfilments import Fulfilment
from retail.models.registers import PaymentType, RegisterClosureLine, RegisterSession
from retail.models.sales import ReceiptSequence, Sale, SaleLine, SalePayment, SaleReturn, SaleReturnLine
from retail.models.shop import ShopSettings

__all__ = [
    "Customer", "CustomerType", "Fulfilment", "GiftCard", "PaymentType", "Product",
    "ReceiptSequence", "RegisterClosureLine", "RegisterSession", "Sale", "SaleLine", "SalePayment",
    "SaleReturn", "SaleReturnLine", "ShopSettings", "StockLevel", "StockMove", "TaxRate",
]
