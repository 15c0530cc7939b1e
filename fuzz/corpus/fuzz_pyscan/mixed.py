import a.b as c, d
from e import (f,
 g)
if x: import h; import i
s = r'''
import no
''' + b"\" # import no
from . import rel
