"""滨州公共数据平台 (bzdata): the city data middle platform."""
